"""Erasures keep the reason a manager gave; staff topics remember their first post (the customer card)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("erasures") as batch:
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
    with op.batch_alter_table("staff_topics") as batch:
        batch.add_column(sa.Column("card_message_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_topics") as batch:
        batch.drop_column("card_message_id")
    with op.batch_alter_table("erasures") as batch:
        batch.drop_column("reason")
