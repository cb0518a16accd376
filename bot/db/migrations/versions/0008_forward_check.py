"""Owner check for forwarding a question: question_log.forward_check.

Revision ID: 0008_forward_check
Revises: 0007_greeted
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_forward_check"
down_revision = "0007_greeted"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("question_log") as batch:
        batch.add_column(sa.Column("forward_check", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("question_log") as batch:
        batch.drop_column("forward_check")
