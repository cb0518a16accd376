"""Web links for pupils: a survey can be answered in a browser through an unguessable link.

Only the SHA-256 of each link's token is stored, so whoever reads the database cannot rebuild a
working link.

Revision ID: 0006_survey_links
Revises: 0005_privacy
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_survey_links"
down_revision = "0005_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_links",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("survey_id", sa.Integer, sa.ForeignKey("surveys.id", ondelete="CASCADE",
                                                         name="fk_survey_links_survey_id_surveys"),
                  nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_survey_links_token_hash"),
    )
    op.create_index("ix_survey_links_survey_id", "survey_links", ["survey_id"])


def downgrade() -> None:
    op.drop_index("ix_survey_links_survey_id", table_name="survey_links")
    op.drop_table("survey_links")
