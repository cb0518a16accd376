"""Web link tables.

survey_links  One row per pupil link a lead created for a survey. `token_hash` is the SHA-256 (hex)
              of the random token in the URL; the token itself is shown to the lead once and never
              stored. `revoked_at` set: the link answers 404. `created_by` is the lead's user id.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from bot.db.schema import metadata, utc_column

survey_links = Table(
    "survey_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("survey_id", Integer, ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_by", String(64), nullable=False),
    utc_column("created_at", nullable=False),
    utc_column("revoked_at"),
    UniqueConstraint("token_hash", name="uq_survey_links_token_hash"),
    Index("ix_survey_links_survey_id", "survey_id"),
)
