"""Indexes the retention purge and the audit view lean on (created by Alembic revision 0005_privacy;
question_log.asked_at has had one since 0002_questions).

The tables belong to other capabilities; declaring the indexes here keeps `metadata` equal to the
migrated schema without touching those packages."""

from __future__ import annotations

from sqlalchemy import Index

from bot.db.schema import audit_log
from bot.questions.tables import unanswered
from bot.surveys.tables import survey_answers

unanswered_created_at = Index("ix_unanswered_created_at", unanswered.c.created_at)
survey_answers_updated_at = Index("ix_survey_answers_updated_at", survey_answers.c.updated_at)
audit_log_at = Index("ix_audit_log_at", audit_log.c.at)
