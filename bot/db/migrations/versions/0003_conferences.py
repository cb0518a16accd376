"""Conferences and process meetings, RSVPs, waitlist.

Revision ID: 0003_conferences
Revises: 0002_questions
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_conferences"
down_revision = "0002_questions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conferences",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.String(120), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(100), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(500), nullable=True),
        sa.Column("capacity", sa.Integer, nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("material", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cancel_reason", sa.String(500), nullable=True),
        sa.Column("sequence", sa.Integer, nullable=False, server_default="0"),
        sa.Column("series_id", sa.String(64), nullable=True),
        sa.Column("series_index", sa.Integer, nullable=True),
        sa.Column("survey_id", sa.String(64), nullable=True),
        sa.Column("audience_channels", sa.JSON, nullable=False),
        sa.Column("audience_users", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("uid", name="uq_conferences_uid"),
    )
    op.create_index("ix_conferences_start_at", "conferences", ["start_at"])
    op.create_table(
        "conference_invitees",
        sa.Column("conference_id", sa.Integer,
                  sa.ForeignKey("conferences.id", ondelete="CASCADE", name="fk_conference_invitees_conference_id_conferences"),
                  primary_key=True),
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("via", sa.String(16), nullable=False),
    )
    op.create_table(
        "conference_rsvps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conference_id", sa.Integer,
                  sa.ForeignKey("conferences.id", ondelete="CASCADE", name="fk_conference_rsvps_conference_id_conferences"),
                  nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("waitlist_seq", sa.Integer, nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("conference_id", "user_id", name="uq_conference_rsvps_conference_user"),
    )
    op.create_index("ix_conference_rsvps_user", "conference_rsvps", ["user_id"])
    op.create_table(
        "conference_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conference_id", sa.Integer,
                  sa.ForeignKey("conferences.id", ondelete="CASCADE", name="fk_conference_messages_conference_id_conferences"),
                  nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=True),
        sa.UniqueConstraint("channel", "ts", name="uq_conference_messages_channel_ts"),
    )
    op.create_index("ix_conference_messages_conference", "conference_messages", ["conference_id"])


def downgrade() -> None:
    op.drop_index("ix_conference_messages_conference", "conference_messages")
    op.drop_table("conference_messages")
    op.drop_index("ix_conference_rsvps_user", "conference_rsvps")
    op.drop_table("conference_rsvps")
    op.drop_table("conference_invitees")
    op.drop_index("ix_conferences_start_at", "conferences")
    op.drop_table("conferences")
