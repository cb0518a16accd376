"""Privacy and reporting: indexes for the retention purge (by age) and the audit log view
(question_log.asked_at is indexed since 0002_questions).

Revision ID: 0005_privacy
Revises: 0004_surveys
Create Date: 2026-11-22
"""

from alembic import op

revision = "0005_privacy"
down_revision = "0004_surveys"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_unanswered_created_at", "unanswered", "created_at"),
    ("ix_survey_answers_updated_at", "survey_answers", "updated_at"),
    ("ix_audit_log_at", "audit_log", "at"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
