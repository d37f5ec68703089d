"""Tickets and their audit trail, customer tags, staff forum topics, the relay map, exports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from crm_store.types import BigId, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", BigId, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("user_name", sa.String(length=128), nullable=True),
        sa.Column("what", sa.String(length=32), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    op.create_table(
        "tags",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("name", name=op.f("uq_tags_name")),
    )
    op.create_table(
        "customer_tags",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("tag_id", BigId, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("set_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("set_by_name", sa.String(length=128), nullable=True),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_customer_tags_customer_id_customers")),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], name=op.f("fk_customer_tags_tag_id_tags")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_tags")),
        sa.UniqueConstraint("customer_id", "tag_id", name=op.f("uq_customer_tags_customer_id_tag_id")),
    )
    op.create_table(
        "staff_topics",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_staff_topics_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_topics")),
        sa.UniqueConstraint("chat_id", "thread_id", name=op.f("uq_staff_topics_chat_id_thread_id")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_staff_topics_customer_id")),
    )
    op.create_table(
        "tickets",
        sa.Column("id", BigId, nullable=False),
        sa.Column("number", sa.String(length=24), nullable=True),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("assignee_user_id", sa.BigInteger(), nullable=True),
        sa.Column("assignee_name", sa.String(length=128), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("first_response_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("rated_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("breached_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_tickets_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("number", name=op.f("uq_tickets_number")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_customer_id_status"), ["customer_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_status_due_at"), ["status", "due_at"], unique=False)

    op.create_table(
        "ticket_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("ticket_id", BigId, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("actor_user_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_name", sa.String(length=128), nullable=True),
        sa.Column("old_value", sa.String(length=128), nullable=True),
        sa.Column("new_value", sa.String(length=128), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_events_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
    )
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_events_ticket_id_at"), ["ticket_id", "at"], unique=False)

    op.create_table(
        "relayed_messages",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("customer_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_message_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_message_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", BigId, nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_relayed_messages_contact_id_contacts")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_relayed_messages_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relayed_messages")),
    )
    with op.batch_alter_table("relayed_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_relayed_messages_customer_chat_id_customer_message_id"),
            ["customer_chat_id", "customer_message_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_relayed_messages_staff_chat_id_staff_message_id"),
            ["staff_chat_id", "staff_message_id"],
            unique=False,
        )

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_id", BigId, nullable=True))
        batch_op.create_index(batch_op.f("ix_contacts_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_contacts_ticket_id_tickets"), "tickets", ["ticket_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_contacts_ticket_id_tickets"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_contacts_ticket_id"))
        batch_op.drop_column("ticket_id")

    with op.batch_alter_table("relayed_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relayed_messages_staff_chat_id_staff_message_id"))
        batch_op.drop_index(batch_op.f("ix_relayed_messages_customer_chat_id_customer_message_id"))

    op.drop_table("relayed_messages")
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_events_ticket_id_at"))

    op.drop_table("ticket_events")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_status_due_at"))
        batch_op.drop_index(batch_op.f("ix_tickets_customer_id_status"))

    op.drop_table("tickets")
    op.drop_table("staff_topics")
    op.drop_table("customer_tags")
    op.drop_table("tags")
    op.drop_table("exports")
