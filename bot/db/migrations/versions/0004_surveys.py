"""Surveys, questions, answers, anonymity keys.

Revision ID: 0004_surveys
Revises: 0003_conferences
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_surveys"
down_revision = "0003_conferences"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "survey_series",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("repeat", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _utc("created_at", nullable=False),
        _utc("stopped_at"),
    )
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("series_id", sa.String(32), sa.ForeignKey("survey_series.id",
                                                              name="fk_surveys_series_id_survey_series"),
                  nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("title_translations", sa.JSON, nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("anonymity", sa.String(16), nullable=False),
        sa.Column("show_results", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("audience", sa.JSON, nullable=False),
        sa.Column("template", sa.String(64), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        _utc("created_at", nullable=False),
        _utc("opens_at", nullable=False),
        _utc("closes_at"),
        _utc("opened_at"),
        _utc("closed_at"),
        sa.Column("respondent_count", sa.Integer, nullable=False, server_default="0"),
        _utc("last_nudge_at"),
    )
    op.create_index("ix_surveys_status", "surveys", ["status"])
    op.create_index("ix_surveys_series_id", "surveys", ["series_id"])
    op.create_table(
        "survey_questions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("survey_id", sa.Integer, sa.ForeignKey("surveys.id", ondelete="CASCADE",
                                                         name="fk_survey_questions_survey_id_surveys"),
                  nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("low_label", sa.String(100), nullable=True),
        sa.Column("high_label", sa.String(100), nullable=True),
        sa.Column("translations", sa.JSON, nullable=False),
    )
    op.create_index("ix_survey_questions_survey_id", "survey_questions", ["survey_id"])
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("survey_id", sa.Integer, sa.ForeignKey("surveys.id", ondelete="CASCADE",
                                                         name="fk_survey_answers_survey_id_surveys"),
                  nullable=False),
        sa.Column("question_id", sa.Integer,
                  sa.ForeignKey("survey_questions.id", ondelete="CASCADE",
                                name="fk_survey_answers_question_id_survey_questions"), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("respondent", sa.String(64), nullable=True),
        sa.Column("user_id", sa.String(64), nullable=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("municipality", sa.String(100), nullable=True),
        sa.Column("school", sa.String(100), nullable=True),
        _utc("created_at", nullable=False),
        _utc("updated_at", nullable=False),
        sa.UniqueConstraint("question_id", "respondent", name="uq_survey_answers_question_respondent"),
    )
    op.create_index("ix_survey_answers_survey_id", "survey_answers", ["survey_id"])
    op.create_table(
        "survey_respondents",
        sa.Column("survey_id", sa.Integer, sa.ForeignKey("surveys.id", ondelete="CASCADE",
                                                         name="fk_survey_respondents_survey_id_surveys"),
                  nullable=False),
        sa.Column("respondent", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("survey_id", "respondent", name="pk_survey_respondents"),
    )
    op.create_table(
        "survey_audience",
        sa.Column("survey_id", sa.Integer, sa.ForeignKey("surveys.id", ondelete="CASCADE",
                                                         name="fk_survey_audience_survey_id_surveys"),
                  nullable=False),
        sa.Column("member", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("survey_id", "member", name="pk_survey_audience"),
    )
    op.create_table(
        "survey_keys",
        sa.Column("survey_id", sa.Integer, sa.ForeignKey("surveys.id", ondelete="CASCADE",
                                                         name="fk_survey_keys_survey_id_surveys"),
                  primary_key=True),
        sa.Column("secret", sa.String(64), nullable=False),
    )
    op.create_table(
        "survey_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("survey_id", sa.Integer, sa.ForeignKey("surveys.id", ondelete="CASCADE",
                                                         name="fk_survey_messages_survey_id_surveys"),
                  nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
    )
    op.create_index("ix_survey_messages_survey_id", "survey_messages", ["survey_id"])


def downgrade() -> None:
    op.drop_index("ix_survey_messages_survey_id", "survey_messages")
    op.drop_table("survey_messages")
    op.drop_table("survey_keys")
    op.drop_table("survey_audience")
    op.drop_table("survey_respondents")
    op.drop_index("ix_survey_answers_survey_id", "survey_answers")
    op.drop_table("survey_answers")
    op.drop_index("ix_survey_questions_survey_id", "survey_questions")
    op.drop_table("survey_questions")
    op.drop_index("ix_surveys_series_id", "surveys")
    op.drop_index("ix_surveys_status", "surveys")
    op.drop_table("surveys")
    op.drop_table("survey_series")
