"""When the bot first greeted someone in its Messages tab, so the welcome with suggested questions
comes once per person (and not again after a restart or on another instance).

Revision ID: 0007_greeted
Revises: 0006_survey_links
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_greeted"
down_revision = "0006_survey_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("greeted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("greeted_at")
