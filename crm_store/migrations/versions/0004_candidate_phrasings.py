"""Candidate phrasings: customers' own words for knowledge entries, for managers to accept or reject

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from crm_store.types import BigId, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "candidate_phrasings",
        sa.Column("id", BigId, nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("phrasing", sa.Text(), nullable=False),
        sa.Column("normalized", sa.String(length=512), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=128), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidate_phrasings")),
        sa.UniqueConstraint("entry_id", "normalized", name=op.f("uq_candidate_phrasings_entry_id_normalized")),
    )
    with op.batch_alter_table("candidate_phrasings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_candidate_phrasings_status_count"), ["status", "count"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("candidate_phrasings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidate_phrasings_status_count"))

    op.drop_table("candidate_phrasings")
