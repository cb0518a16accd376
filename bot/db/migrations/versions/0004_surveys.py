"""Surveys, questions, answers, anonymity keys.

Revision ID: 0004_surveys
Revises: 0003_conferences
Create Date: 2026-11-22
"""

revision = "0004_surveys"
down_revision = "0003_conferences"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
