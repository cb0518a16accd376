"""Questions: question log, feedback, unanswered questions.

Revision ID: 0002_questions
Revises: 0001_base
Create Date: 2026-11-22
"""

revision = "0002_questions"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
