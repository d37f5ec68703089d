"""The staff desk: canned replies, the on-duty roster with its round-robin state, and text search on contacts

SQLite: an FTS5 table with the trigram tokenizer, holding only an index of contacts.text (external content),
kept in step by triggers. A later migration that rebuilds `contacts` in batch mode (copy and rename)
drops these triggers with the old table and must create them again (`create_search_triggers`).
PostgreSQL: pg_trgm and a GIN trigram index on contacts.text, which serves ILIKE '%…%'.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from crm_store.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    """CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts BEGIN
        INSERT INTO contacts_search(rowid, text) VALUES (new.id, new.text);
    END""",
    """CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts BEGIN
        INSERT INTO contacts_search(contacts_search, rowid, text) VALUES ('delete', old.id, old.text);
    END""",
    """CREATE TRIGGER contacts_search_update AFTER UPDATE OF text ON contacts BEGIN
        INSERT INTO contacts_search(contacts_search, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO contacts_search(rowid, text) VALUES (new.id, new.text);
    END""",
)


def create_search_triggers() -> None:
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("code", sa.String(64), nullable=False),
        # NULL: a reply of the content file that a manager removed with /canned del.
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_canned_replies"),
    )
    op.create_table(
        "staff_members",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("on_duty", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("duty_changed_at", UTCDateTime(), nullable=True),
        # Round-robin: the next ticket goes to the on-duty member assigned longest ago.
        sa.Column("last_assigned_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_staff_members"),
    )
    op.create_index("ix_staff_members_username", "staff_members", ["username"])
    op.create_index("ix_tickets_assignee_user_id_status", "tickets", ["assignee_user_id", "status"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE contacts_search USING fts5("
            "text, content='contacts', content_rowid='id', tokenize='trigram')"
        )
        create_search_triggers()
        op.execute("INSERT INTO contacts_search(contacts_search) VALUES ('rebuild')")
    else:
        bind = op.get_bind()
        has_public = bind.scalar(sa.text("SELECT count(*) FROM pg_namespace WHERE nspname = 'public'"))
        # In public when it exists: an extension created inside a schema that is later dropped takes the
        # index with it (test suites use one schema per run).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm" + (" SCHEMA public" if has_public else ""))
        schema = bind.scalar(
            sa.text(
                "SELECT n.nspname FROM pg_opclass c JOIN pg_namespace n ON n.oid = c.opcnamespace "
                "WHERE c.opcname = 'gin_trgm_ops'"
            )
        )
        op.execute(f'CREATE INDEX ix_contacts_text_trgm ON contacts USING gin (text "{schema}".gin_trgm_ops)')


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS contacts_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS contacts_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_contacts_text_trgm")
    op.drop_index("ix_tickets_assignee_user_id_status", table_name="tickets")
    op.drop_index("ix_staff_members_username", table_name="staff_members")
    op.drop_table("staff_members")
    op.drop_table("canned_replies")
