"""Customers and contacts (moments of truth).

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from crm_store.types import BigId, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("username", sa.String(64)),
        sa.Column("language", sa.String(16)),
        sa.Column("region", sa.String(64)),
        sa.Column("first_contact_at", UTCDateTime(), nullable=False),
        sa.Column("last_contact_at", UTCDateTime(), nullable=False),
        sa.Column("blocked_at", UTCDateTime()),
        sa.Column("erased_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.UniqueConstraint("channel", "external_id", name="uq_customers_channel_external_id"),
    )
    op.create_table(
        "contacts",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("actor", sa.String(16), nullable=False),
        sa.Column("staff_user_id", sa.BigInteger()),
        sa.Column("staff_name", sa.String(128)),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(32)),
        sa.Column("entry_id", sa.String(64)),
        sa.Column("score", sa.Float()),
        sa.Column("tier", sa.String(16)),
        sa.Column("wait_ms", sa.Integer()),
        sa.Column("handling_ms", sa.Integer()),
        sa.Column("reply_to_id", BigId),
        sa.Column("update_id", sa.BigInteger()),
        sa.Column("chat_id", sa.BigInteger()),
        sa.Column("message_id", sa.BigInteger()),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name="fk_contacts_customer_id_customers"),
        sa.ForeignKeyConstraint(["reply_to_id"], ["contacts.id"], name="fk_contacts_reply_to_id_contacts"),
        sa.UniqueConstraint("update_id", name="uq_contacts_update_id"),
    )
    op.create_index("ix_contacts_customer_id_at", "contacts", ["customer_id", "at"])
    op.create_index("ix_contacts_at", "contacts", ["at"])


def downgrade() -> None:
    op.drop_table("contacts")
    op.drop_table("customers")
