"""Questions: question log, feedback, unanswered questions.

Revision ID: 0002_questions
Revises: 0001_base
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_questions"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "question_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("article_id", sa.String(80), nullable=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("answered", sa.Boolean, nullable=False),
        sa.Column("channel_kind", sa.String(16), nullable=False),
    )
    op.create_index("ix_question_log_asked_at", "question_log", ["asked_at"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("question_id", sa.Integer, sa.ForeignKey("question_log.id", ondelete="CASCADE"), nullable=False),
        sa.Column("article_id", sa.String(80), nullable=False),
        sa.Column("helpful", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("question_id", name="uq_feedback_question_id"),
    )
    op.create_table(
        "unanswered",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("question_id", sa.Integer, sa.ForeignKey("question_log.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("closest", sa.String(250), nullable=True),
        sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("question_id", name="uq_unanswered_question_id"),
    )


def downgrade() -> None:
    op.drop_table("unanswered")
    op.drop_table("feedback")
    op.drop_index("ix_question_log_asked_at", "question_log")
    op.drop_table("question_log")
