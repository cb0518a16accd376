"""Privacy and reporting additions.

Revision ID: 0005_privacy
Revises: 0004_surveys
Create Date: 2026-11-22
"""

revision = "0005_privacy"
down_revision = "0004_surveys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
