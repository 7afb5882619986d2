"""Tables of the call store: calls, Twilio events, turns, handovers and desk agents.

Times are timezone-aware UTC in Python (`UTCDateTime`); SQLite keeps them as naive UTC.
The schema itself is created by the Alembic migrations in `migrations/`; a test checks
that these models and the migrations agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dialogue import turns as dialogue_turns

# Constraint names are fixed so migrations (and SQLite batch mode) can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("caller", "loket")
KINDS = ("transfer", "callback", "record")
STATUSES = ("open", "handled")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in and out; naive values are taken to be UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        # SQLite has no time zones: store naive UTC
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime()}

    def __repr__(self) -> str:
        # ids only: reprs end up in logs and tracebacks, personal data must not
        return f"<{type(self).__name__} {getattr(self, 'id', '?')}>"


class Call(Base):
    """One phone call; `id` is Twilio's CallSid."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_municipality_started_at", "municipality", "started_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    municipality: Mapped[str] = mapped_column(String(64))
    caller: Mapped[str | None] = mapped_column(String(64))  # blanked by `Store.purge`
    called: Mapped[str | None] = mapped_column(String(64))  # the municipal number
    started_at: Mapped[dt.datetime] = mapped_column(index=True, default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(32), default="in-progress")  # Twilio CallStatus
    end_reason: Mapped[str | None] = mapped_column(String(64))
    contained: Mapped[bool] = mapped_column(Boolean, default=False)  # outcome == "contained"
    outcome: Mapped[str | None] = mapped_column(String(16))  # telephony.outcome.OUTCOMES
    purged_at: Mapped[dt.datetime | None]  # when personal data was blanked


class CallEvent(Base):
    """A Twilio status callback. No foreign key: callbacks may arrive for unknown calls."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # blanked by purge


class Turn(Base):
    """One line of a call's transcript with its timings."""

    __tablename__ = "turns"
    __table_args__ = (
        UniqueConstraint("call_id", "index", name="uq_turns_call_id_index"),
        CheckConstraint("role IN ('caller', 'loket')", name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)  # 0, 1, 2, ... within the call
    role: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text, default="")  # blanked by purge
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    recognition_ms: Mapped[int | None] = mapped_column(Integer)  # speech end -> text
    latency_ms: Mapped[int | None] = mapped_column(Integer)  # speech end -> Loket speaks
    cut_off: Mapped[bool] = mapped_column(Boolean, default=False)  # caller barged in

    def line(self) -> dialogue_turns.Line:
        """This turn as a dialogue transcript line."""
        at = (self.started_at or self.ended_at or utcnow()).isoformat(timespec="seconds")
        role = "caller" if self.role == "caller" else "loket"
        return dialogue_turns.Line(role=role, text=self.text, at=at, intent=self.intent,
                                   confidence=self.confidence, cut_off=self.cut_off)


class Handover(Base):
    """A handover for the agent desk: a transfer, a callback request or a record."""

    __tablename__ = "handovers"
    __table_args__ = (
        Index("ix_handovers_status_municipality", "status", "municipality"),
        CheckConstraint("kind IN ('transfer', 'callback', 'record')", name="kind"),
        CheckConstraint("status IN ('open', 'handled')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL"), index=True)
    municipality: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, default="")  # blanked by purge
    topic: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # blanked by purge
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # idem
    created_at: Mapped[dt.datetime] = mapped_column(index=True, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    handled_by: Mapped[str | None] = mapped_column(String(64))
    handled_at: Mapped[dt.datetime | None]
    purged_at: Mapped[dt.datetime | None]

    def record(self) -> dialogue_turns.Handover:
        """The dialogue's handover record again (what the agent reads)."""
        return dialogue_turns.Handover(
            reason=self.reason,
            summary=self.summary,
            topic=self.topic,
            municipality=self.municipality,
            data=dict(self.data or {}),
            transcript=[dialogue_turns.Line(**line) for line in self.transcript or []],
            created_at=self.created_at.isoformat(timespec="seconds"),
            callback=self.kind == "callback",
        )


class Agent(Base):
    """A contact-centre agent who may log in to the desk."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # scrypt$n$r$p$salt$hash
    municipalities: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
