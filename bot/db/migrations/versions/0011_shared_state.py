"""State that several instances share: Slack deliveries already seen, the DM pace, live-message
refreshes, content versions and the pupil pages' rate-limit windows.

Each of these lived in one process's memory; behind a load balancer that meant N times the DM rate,
duplicate answers to retried events, live counts out of order and a reload reaching one instance.

Revision ID: 0011_shared_state
Revises: 0010_knowledge_gaps
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_shared_state"
down_revision = "0010_knowledge_gaps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries_seen",
        sa.Column("delivery_id", sa.String(120), primary_key=True),
        sa.Column("seen_at", sa.Float, nullable=False),  # epoch seconds: compared in SQL on both dialects
    )
    op.create_index("ix_deliveries_seen_seen_at", "deliveries_seen", ["seen_at"])
    op.create_table(
        "pacing",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("next_slot", sa.Float, nullable=False),
    )
    op.create_table(
        "message_refresh",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("dirty", sa.Boolean, nullable=False),
        sa.Column("due_at", sa.Float, nullable=False),
        sa.Column("sent_at", sa.Float, nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", sa.Float, nullable=True),
    )
    op.create_table(
        "shared_versions",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "rate_windows",
        sa.Column("bucket", sa.String(64), primary_key=True),
        sa.Column("window_start", sa.Float, nullable=False),
        sa.Column("hits", sa.Integer, nullable=False),
    )
    op.create_index("ix_rate_windows_window_start", "rate_windows", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_rate_windows_window_start", "rate_windows")
    op.drop_table("rate_windows")
    op.drop_table("shared_versions")
    op.drop_table("message_refresh")
    op.drop_table("pacing")
    op.drop_index("ix_deliveries_seen_seen_at", "deliveries_seen")
    op.drop_table("deliveries_seen")
