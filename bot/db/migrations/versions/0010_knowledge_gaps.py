"""Knowledge gaps: a counsellor's answer in the thread of a forwarded question reaches the asker, and
can be proposed as an example question for an article or as a new article.

`unanswered` remembers who asked (only for forwarded questions, which the asker agreed to share) and
where the forwarded post is, so a reply in its thread can be matched; `content_proposals` keeps the
counsellors' proposals for the project team.

Revision ID: 0010_knowledge_gaps
Revises: 0009_link_limits_feeds
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_knowledge_gaps"
down_revision = "0009_link_limits_feeds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("unanswered", sa.Column("asker_id", sa.String(64), nullable=True))
    op.add_column("unanswered", sa.Column("thread_ts", sa.String(32), nullable=True))
    op.add_column("unanswered", sa.Column("answer", sa.Text, nullable=True))
    op.add_column("unanswered", sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_unanswered_thread_ts", "unanswered", ["thread_ts"])
    op.create_table(
        "content_proposals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),  # "example" for an article, or "article" (a new one)
        sa.Column("article_id", sa.String(80), nullable=True),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("proposed_by", sa.String(64), nullable=False),
        sa.Column("question_id", sa.Integer, nullable=True),  # no foreign key: the question log is purged sooner
        sa.UniqueConstraint("question_id", "kind", "article_id", name="uq_content_proposals_question_kind"),
    )


def downgrade() -> None:
    op.drop_table("content_proposals")
    op.drop_index("ix_unanswered_thread_ts", table_name="unanswered")
    with op.batch_alter_table("unanswered") as batch:
        batch.drop_column("answered_at")
        batch.drop_column("answer")
        batch.drop_column("thread_ts")
        batch.drop_column("asker_id")
