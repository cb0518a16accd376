"""Limits on pupils' links and personal calendar feeds.

A pupil link can take at most `max_answers` answers and can require one-time pupil codes (only the
SHA-256 of each code is stored, like the link token); `answer_count` and `answers_without_code` let the
results tell web answers apart. A calendar feed is a per-person URL (`/cal/<token>.ics`) that Outlook
and Google poll; again only the token's hash is stored.

Revision ID: 0009_link_limits_feeds
Revises: 0008_forward_check
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_link_limits_feeds"
down_revision = "0008_forward_check"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("survey_links") as batch:
        batch.add_column(sa.Column("max_answers", sa.Integer, nullable=True))
        batch.add_column(sa.Column("answer_count", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("answers_without_code", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "survey_link_codes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("link_id", sa.Integer, sa.ForeignKey("survey_links.id", ondelete="CASCADE",
                                                       name="fk_survey_link_codes_link_id_survey_links"),
                  nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("link_id", "code_hash", name="uq_survey_link_codes_link_code"),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_calendar_feeds_token_hash"),
        sa.UniqueConstraint("user_id", name="uq_calendar_feeds_user_id"),
    )


def downgrade() -> None:
    op.drop_table("calendar_feeds")
    op.drop_table("survey_link_codes")
    with op.batch_alter_table("survey_links") as batch:
        batch.drop_column("answers_without_code")
        batch.drop_column("answer_count")
        batch.drop_column("max_answers")
