"""Survey tables. The reports/exports issue reads these, so here is what each one holds.

survey_series       One row per repeating pulse (weekly/monthly). Instances share `series_id`, so a
                    trend is the same question (by position) across the series' surveys.
surveys             One row per survey or quick poll: title, language, anonymity mode, status
                    (scheduled -> open -> closed), open/close times, the audience (channels to post
                    in, people to DM, channels whose members get a DM) and the final respondent count
                    (written at close; while open the count comes from survey_respondents, so no
                    answer has to update, and lock, the survey's row).
                    For anonymous surveys the people in the audience are dropped at close (only
                    their number is kept in `audience.people_count`).
survey_questions    The 1-10 questions of a survey, in order. `options` holds the choices (single and
                    multiple choice), `translations` the same question in other languages.
survey_answers      One row per person and question (the last answer wins, updated in place):
                    `value` is "1".."5" / "0".."10" for scales, "yes"/"no", the 0-based option index
                    for single choice, comma-separated sorted indexes ("0,2") for multiple choice, or
                    the text. `created_at`/`updated_at` are cut to the day for anonymous surveys.
                    `user_id` is set ONLY for confidential and named surveys. `role` and
                    `municipality` are kept for breakdowns (never for anonymous free text), `school`
                    only for confidential and named surveys. `respondent` is a keyed hash that makes
                    "one answer per person" work while the survey is open; it is set to NULL at close.
survey_respondents  Keyed hashes of who has answered an open survey (blocks double answers, lets
                    nudges skip those who answered). Deleted at close.
survey_audience     Keyed hashes of who is in an open survey's audience ("which surveys are open for
                    me?" without storing who was asked). Deleted at close.
survey_keys         The per-survey random HMAC key. Deleted at close: after that nobody, not even
                    whoever holds the database, can recompute a hash from a user id.
survey_messages     Where the survey was posted (channel messages get live counts; DM messages are
                    marked closed at close and then forgotten).
survey_links        One row per pupil web link a lead created for a survey. `token_hash` is the SHA-256
                    (hex) of the random token in the URL; the token itself is shown to the lead once and
                    never stored. `revoked_at` set: the link answers 404. `created_by` is the lead's id.
                    `max_answers` caps new answers through the link; `answer_count` counts them and
                    `answers_without_code` those sent without a one-time pupil code.
survey_link_codes   One-time pupil codes of a link (SHA-256 of the code); `used_at` once it was used.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    case,
    func,
    select,
)

from bot.db.schema import metadata, utc_column

survey_series = Table(
    "survey_series",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("repeat", String(16), nullable=False),  # weekly | monthly
    Column("created_by", String(64), nullable=False),
    utc_column("created_at", nullable=False),
    utc_column("stopped_at"),
)

surveys = Table(
    "surveys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("series_id", String(32), ForeignKey("survey_series.id"), nullable=True),
    Column("kind", String(16), nullable=False),  # survey | poll
    Column("title", String(200), nullable=False),
    Column("title_translations", JSON, nullable=False),
    Column("lang", String(2), nullable=False),
    Column("anonymity", String(16), nullable=False),  # anonymous | confidential | named
    Column("show_results", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # scheduled | open | closed
    Column("audience", JSON, nullable=False),
    Column("template", String(64), nullable=True),
    Column("created_by", String(64), nullable=False),
    utc_column("created_at", nullable=False),
    utc_column("opens_at", nullable=False),
    utc_column("closes_at"),
    utc_column("opened_at"),
    utc_column("closed_at"),
    Column("respondent_count", Integer, nullable=False, default=0),
    utc_column("last_nudge_at"),
    Index("ix_surveys_status", "status"),
    Index("ix_surveys_series_id", "series_id"),
)

survey_questions = Table(
    "survey_questions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("survey_id", Integer, ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("options", JSON, nullable=False),
    Column("low_label", String(100), nullable=True),
    Column("high_label", String(100), nullable=True),
    Column("translations", JSON, nullable=False),
    Index("ix_survey_questions_survey_id", "survey_id"),
)

survey_answers = Table(
    "survey_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("survey_id", Integer, ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False),
    Column("question_id", Integer, ForeignKey("survey_questions.id", ondelete="CASCADE"), nullable=False),
    Column("value", Text, nullable=False),
    Column("respondent", String(64), nullable=True),
    Column("user_id", String(64), nullable=True),
    Column("role", String(16), nullable=True),
    Column("municipality", String(100), nullable=True),
    Column("school", String(100), nullable=True),
    utc_column("created_at", nullable=False),
    utc_column("updated_at", nullable=False),
    UniqueConstraint("question_id", "respondent", name="uq_survey_answers_question_respondent"),
    Index("ix_survey_answers_survey_id", "survey_id"),
)

survey_respondents = Table(
    "survey_respondents",
    metadata,
    Column("survey_id", Integer, ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False),
    Column("respondent", String(64), nullable=False),
    PrimaryKeyConstraint("survey_id", "respondent", name="pk_survey_respondents"),
)

survey_audience = Table(
    "survey_audience",
    metadata,
    Column("survey_id", Integer, ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False),
    Column("member", String(64), nullable=False),
    PrimaryKeyConstraint("survey_id", "member", name="pk_survey_audience"),
)

survey_keys = Table(
    "survey_keys",
    metadata,
    Column("survey_id", Integer, ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True),
    Column("secret", String(64), nullable=False),
)

survey_messages = Table(
    "survey_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("survey_id", Integer, ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # channel | dm
    Column("channel", String(64), nullable=False),
    Column("ts", String(32), nullable=False),
    Index("ix_survey_messages_survey_id", "survey_id"),
)

survey_links = Table(
    "survey_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("survey_id", Integer, ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_by", String(64), nullable=False),
    utc_column("created_at", nullable=False),
    utc_column("revoked_at"),
    Column("max_answers", Integer, nullable=True),
    Column("answer_count", Integer, nullable=False, server_default="0"),
    Column("answers_without_code", Integer, nullable=False, server_default="0"),
    UniqueConstraint("token_hash", name="uq_survey_links_token_hash"),
    Index("ix_survey_links_survey_id", "survey_id"),
)

survey_link_codes = Table(
    "survey_link_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("link_id", Integer, ForeignKey("survey_links.id", ondelete="CASCADE"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    utc_column("used_at"),
    UniqueConstraint("link_id", "code_hash", name="uq_survey_link_codes_link_code"),
)

def live_respondent_count() -> ColumnElement[int]:
    """How many have answered a survey, counted from `survey_respondents` (for an UPDATE at close)."""
    return select(func.count()).select_from(survey_respondents).where(
        survey_respondents.c.survey_id == surveys.c.id).scalar_subquery()


def respondent_count_column() -> ColumnElement[int]:
    """`respondent_count` as readers should see it: live while open, the count kept at close after."""
    return case((surveys.c.status == "closed", surveys.c.respondent_count),
                else_=live_respondent_count()).label("respondent_count")


def survey_columns() -> list[ColumnElement[Any]]:
    """Every column of `surveys`, with `respondent_count` as readers should see it."""
    return [c for c in surveys.c if c.name != "respondent_count"] + [respondent_count_column()]
