"""What the question answerer stores. No Slack user IDs: questions are kept for improving content,
not for knowing who asked (the asker's ID is only kept, with consent, for a question forwarded to
the counsellors, so their answer can reach the asker)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bot.db.schema import metadata, utc_column

question_log = Table(
    "question_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    utc_column("asked_at", nullable=False),
    Column("lang", String(2), nullable=False),
    Column("role", String(16), nullable=True),  # the asker's role: for reports, not identity
    Column("question", Text, nullable=False),
    Column("article_id", String(80), nullable=True),
    Column("score", Float, nullable=False),
    Column("answered", Boolean, nullable=False),
    Column("channel_kind", String(16), nullable=False),  # command, dm, mention, console
    # HMAC-SHA256(key=a random token that only the asker's "Fråga en vägledare" button carries, the
    # asker's user id): lets the bot check that whoever forwards the question asked it, while whoever
    # reads the database cannot test a user id against it (the token is not stored).
    Column("forward_check", String(64), nullable=True),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question_id", Integer, ForeignKey("question_log.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("article_id", String(80), nullable=False),
    Column("helpful", Boolean, nullable=False),
    utc_column("created_at", nullable=False),
)

unanswered = Table(
    "unanswered",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question_id", Integer, ForeignKey("question_log.id", ondelete="CASCADE"), nullable=False, unique=True),
    utc_column("created_at", nullable=False),
    Column("question", Text, nullable=False),
    Column("lang", String(2), nullable=False),
    Column("closest", String(250), nullable=True),  # comma-separated closest article ids
    utc_column("forwarded_at"),
    Column("asker_id", String(64), nullable=True),  # only once forwarded, with the asker's consent
    Column("thread_ts", String(32), nullable=True),  # the forwarded post in GUIDANCE_CHANNEL
    Column("answer", Text, nullable=True),  # the counsellor's latest answer in that thread
    utc_column("answered_at"),
    Index("ix_unanswered_thread_ts", "thread_ts"),
)

content_proposals = Table(
    "content_proposals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    utc_column("created_at", nullable=False),
    Column("kind", String(16), nullable=False),  # "example" (for article_id) or "article" (a new one)
    Column("article_id", String(80), nullable=True),
    Column("lang", String(2), nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("proposed_by", String(64), nullable=False),
    Column("question_id", Integer, nullable=True),
    UniqueConstraint("question_id", "kind", "article_id", name="uq_content_proposals_question_kind"),
)
