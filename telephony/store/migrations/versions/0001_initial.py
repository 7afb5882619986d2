"""Initial schema: calls, call events, turns, handovers and agents.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(64), nullable=True),
        sa.Column("called", sa.String(64), nullable=True),
        _time("started_at", nullable=False),
        _time("ended_at"),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("end_reason", sa.String(64), nullable=True),
        sa.Column("contained", sa.Boolean(), nullable=False),
        _time("purged_at"),
        sa.PrimaryKeyConstraint("id", name="pk_calls"),
    )
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.create_index("ix_calls_municipality_started_at", "calls", ["municipality", "started_at"])

    op.create_table(
        "call_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        _time("at", nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_call_events"),
    )
    op.create_index("ix_call_events_call_id", "call_events", ["call_id"])

    op.create_table(
        "turns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        _time("started_at"),
        _time("ended_at"),
        sa.Column("recognition_ms", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("cut_off", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_turns"),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name="fk_turns_call_id_calls",
                                ondelete="CASCADE"),
        sa.UniqueConstraint("call_id", "index", name="uq_turns_call_id_index"),
        sa.CheckConstraint("role IN ('caller', 'loket')", name="ck_turns_role"),
    )

    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(128), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("transcript", sa.JSON(), nullable=False),
        _time("created_at", nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("handled_by", sa.String(64), nullable=True),
        _time("handled_at"),
        _time("purged_at"),
        sa.PrimaryKeyConstraint("id", name="pk_handovers"),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name="fk_handovers_call_id_calls",
                                ondelete="SET NULL"),
        sa.CheckConstraint("kind IN ('transfer', 'callback', 'record')", name="ck_handovers_kind"),
        sa.CheckConstraint("status IN ('open', 'handled')", name="ck_handovers_status"),
    )
    op.create_index("ix_handovers_call_id", "handovers", ["call_id"])
    op.create_index("ix_handovers_created_at", "handovers", ["created_at"])
    op.create_index("ix_handovers_status_municipality", "handovers", ["status", "municipality"])

    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("municipalities", sa.JSON(), nullable=False),
        _time("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agents"),
        sa.UniqueConstraint("username", name="uq_agents_username"),
    )


def downgrade() -> None:
    op.drop_table("agents")
    op.drop_table("handovers")
    op.drop_table("turns")
    op.drop_table("call_events")
    op.drop_table("calls")
