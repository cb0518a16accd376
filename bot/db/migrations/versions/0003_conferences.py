"""Conferences and process meetings, RSVPs, waitlist.

Revision ID: 0003_conferences
Revises: 0002_questions
Create Date: 2026-11-22
"""

revision = "0003_conferences"
down_revision = "0002_questions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
