"""Tables of the conferences capability (created by Alembic revision 0003_conferences).

Times are UTC; the waitlist order is an integer sequence given out inside the locked RSVP transaction,
so two clicks in the same millisecond still get distinct, ordered places.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from bot.db.schema import metadata, utc_column

conferences = Table(
    "conferences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", String(120), nullable=False, unique=True),  # the calendar UID: never changes
    Column("title", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # startup | process | other
    Column("unit", String(100), nullable=True),  # municipality or school, for overlap warnings
    utc_column("start_at", nullable=False),
    utc_column("end_at", nullable=False),
    Column("location", String(500), nullable=True),
    Column("capacity", Integer, nullable=True),
    Column("description", Text, nullable=True),
    Column("material", JSON, nullable=False),  # [{"label": ..., "url": ...}]
    Column("status", String(16), nullable=False),  # scheduled | cancelled
    Column("cancel_reason", String(500), nullable=True),
    Column("sequence", Integer, nullable=False, default=0),  # iCalendar SEQUENCE: bumped on every change
    Column("series_id", String(64), nullable=True),
    Column("series_index", Integer, nullable=True),
    Column("survey_id", String(64), nullable=True),  # pulse survey sent to attendees when it ends
    Column("audience_channels", JSON, nullable=False),
    Column("audience_users", JSON, nullable=False),
    Column("created_by", String(64), nullable=False),
    utc_column("created_at", nullable=False),
    utc_column("updated_at", nullable=False),
    utc_column("announced_at"),
    Index("ix_conferences_start_at", "start_at"),
)

conference_invitees = Table(
    "conference_invitees",
    metadata,
    Column("conference_id", Integer, ForeignKey("conferences.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(64), primary_key=True),
    Column("via", String(16), nullable=False),  # dm | channel
)

conference_rsvps = Table(
    "conference_rsvps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conference_id", Integer, ForeignKey("conferences.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # yes | waitlist | maybe | no
    Column("waitlist_seq", Integer, nullable=True),
    utc_column("answered_at", nullable=False),
    utc_column("updated_at", nullable=False),
    UniqueConstraint("conference_id", "user_id", name="uq_conference_rsvps_conference_user"),
    Index("ix_conference_rsvps_user", "user_id"),
)

conference_messages = Table(
    "conference_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conference_id", Integer, ForeignKey("conferences.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("lang", String(2), nullable=False),
    Column("user_id", String(64), nullable=True),  # set for a DM invitation: it shows that person's answer
    UniqueConstraint("channel", "ts", name="uq_conference_messages_channel_ts"),
    Index("ix_conference_messages_conference", "conference_id"),
)

# A person's calendar feed (`/cal/<token>.ics`): only the SHA-256 of the token is stored, one per person.
calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False),
    utc_column("created_at", nullable=False),
    UniqueConstraint("token_hash", name="uq_calendar_feeds_token_hash"),
    UniqueConstraint("user_id", name="uq_calendar_feeds_user_id"),
)
