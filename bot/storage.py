"""Conversations, messages with their citations, and feedback, through SQLAlchemy.

SQLite by default (a file under the data dir); `ADVISOR_DATABASE_URL` points it at PostgreSQL so that
several web workers share sessions. The web app keeps history here, not in process memory, so any
worker can answer a follow-up.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    Boolean,
    CursorResult,
    DateTime,
    ForeignKey,
    String,
    Text,
    create_engine,
    delete,
    event,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker

from bot.schema import Answer, Citation
from bot.turns import assistant_turn


class StorageError(RuntimeError):
    """The database cannot be reached or used; the message says which URL (without its password)."""


class UnknownMessageError(LookupError):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict] = {dict: JSON, list: JSON}


class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_id)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    messages: Mapped[list[Message]] = relationship(back_populates="conversation", order_by="Message.seq")


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    seq: Mapped[int] = mapped_column()
    role: Mapped[str] = mapped_column(String(16))  # "user" or "assistant"
    content: Mapped[str] = mapped_column(Text)
    refused: Mapped[bool] = mapped_column(Boolean, default=False)
    citations: Mapped[list] = mapped_column(default=list)  # Citation dicts, as in `advisor ask --json`
    # Structured state of the turn that the next question reads (the finder's question and profile: bot/turns.py)
    meta: Mapped[dict | None] = mapped_column(JSON, nullable=True, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_id)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    rating: Mapped[str] = mapped_column(String(8))  # "up" or "down"
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class SlackEvent(Base):
    """A Slack event id this deployment has taken on: the unique key makes Slack's retries answer once,
    whichever instance or worker receives them."""

    __tablename__ = "slack_events"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes even for timezone-aware columns; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Exchange:
    """A question and the answer it got, with what came before: what feedback export turns into eval items."""

    message_id: str
    question: str
    answer: str
    refused: bool
    citations: list[dict]
    history: list[dict]
    rating: str
    comment: str


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets web workers read while one writes; a busy wait instead of "database is locked" errors."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Store:
    """The one place that reads and writes conversations; every method is a short transaction."""

    def __init__(self, url: str) -> None:
        kwargs: dict = {"pool_pre_ping": True}
        if url.startswith("sqlite"):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False}
        self.url = url
        self.engine = create_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        try:
            Base.metadata.create_all(self.engine)
            self._add_missing_columns()
        except SQLAlchemyError as exc:
            raise StorageError(f"データベースに接続できません (cannot use the database {self.safe_url}): "
                               f"{exc.__class__.__name__}") from exc

    def _add_missing_columns(self) -> None:
        """A database written by an earlier version lacks the columns added since (create_all makes only
        missing tables): add them, nullable, so existing conversations are kept."""
        with self.engine.begin() as conn:
            inspector = inspect(conn)
            for table in Base.metadata.sorted_tables:
                have = {c["name"] for c in inspector.get_columns(table.name)}
                for column in table.columns:
                    if column.name not in have and column.nullable:
                        kind = column.type.compile(dialect=conn.dialect)
                        conn.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return True
        except SQLAlchemyError:
            return False

    def conversation(self, conversation_id: str | None, channel: str = "web") -> str:
        """The id of an existing conversation, or of a new one when the id is missing or unknown."""
        try:
            with self._session.begin() as s:
                if conversation_id and s.get(Conversation, conversation_id) is not None:
                    return conversation_id
                conv = Conversation(id=conversation_id or _new_id(), channel=channel)
                s.add(conv)
                return conv.id
        except IntegrityError:  # another worker created the same (Slack thread) conversation just now
            if conversation_id and self.has_conversation(conversation_id):
                return conversation_id
            raise

    def has_conversation(self, conversation_id: str) -> bool:
        """Whether the conversation exists (Slack: whether the bot already talks in that thread)."""
        with self._session() as s:
            return s.get(Conversation, conversation_id) is not None

    # --- Slack event de-duplication ---------------------------------------------------------

    def claim_event(self, event_id: str, stale_after: float = 120.0, keep_for: float = 86400.0) -> bool:
        """True for the first delivery of an event: the caller answers it. False for a retry of an event that
        is answered or being answered. An event claimed more than `stale_after` seconds ago and never
        finished (its worker died) may be claimed again, so a question is not dropped."""
        now = _now()
        try:
            with self._session.begin() as s:
                s.add(SlackEvent(event_id=event_id, claimed_at=now))
            if hash(event_id) % 50 == 0:  # now and then, forget events Slack no longer retries
                with self._session.begin() as s:
                    s.execute(delete(SlackEvent).where(SlackEvent.claimed_at < now - timedelta(seconds=keep_for)))
            return True
        except IntegrityError:
            pass
        with self._session.begin() as s:
            row = s.get(SlackEvent, event_id)
            if row is None or row.done or _aware(row.claimed_at) > now - timedelta(seconds=stale_after):
                return False
            # Compare-and-set on the old claim time, so of two retries arriving together only one re-takes it.
            taken = s.execute(update(SlackEvent).where(SlackEvent.event_id == event_id,
                                                       SlackEvent.claimed_at == row.claimed_at,
                                                       SlackEvent.done.is_(False))
                              .values(claimed_at=now))
            return cast("CursorResult[Any]", taken).rowcount == 1

    def finish_event(self, event_id: str) -> None:
        """The event has been answered: no retry may answer it again."""
        with self._session.begin() as s:
            s.execute(update(SlackEvent).where(SlackEvent.event_id == event_id).values(done=True))

    def history(self, conversation_id: str, turns: int = 6) -> list[dict]:
        """The last turns as [{"role", "content"}] with the turn's stored state (`finder`), oldest first: what
        the engine takes as history (bot/turns.py)."""
        with self._session() as s:
            rows = s.scalars(select(Message).where(Message.conversation_id == conversation_id)
                             .order_by(Message.seq.desc()).limit(turns * 2)).all()
        return [{"role": m.role, "content": m.content, **(m.meta or {})} for m in reversed(rows)]

    def record(self, conversation_id: str, question: str, answer: Answer) -> str:
        """Store a question and its answer; returns the answer's message id (what feedback refers to)."""
        with self._session.begin() as s:
            last = s.scalars(select(Message.seq).where(Message.conversation_id == conversation_id)
                             .order_by(Message.seq.desc()).limit(1)).first() or 0
            s.add(Message(conversation_id=conversation_id, seq=last + 1, role="user", content=question))
            turn = assistant_turn(answer)
            meta = {k: v for k, v in turn.items() if k not in ("role", "content")} or None
            reply = Message(conversation_id=conversation_id, seq=last + 2, role="assistant", content=answer.answer,
                            refused=answer.refused, citations=[c.model_dump() for c in answer.citations], meta=meta)
            s.add(reply)
            s.flush()
            return reply.id

    def citations(self, message_id: str) -> list[Citation]:
        with self._session() as s:
            msg = s.get(Message, message_id)
            if msg is None:
                raise UnknownMessageError(message_id)
            return [Citation.model_validate(c) for c in msg.citations]

    def add_feedback(self, message_id: str, rating: str, comment: str = "") -> str:
        with self._session.begin() as s:
            msg = s.get(Message, message_id)
            if msg is None or msg.role != "assistant":
                raise UnknownMessageError(message_id)
            fb = Feedback(message_id=message_id, rating=rating, comment=comment)
            s.add(fb)
            s.flush()
            return fb.id

    def rated(self, rating: str = "down") -> Iterator[Exchange]:
        """Answers that got this rating, each with its question and the turns before it."""
        with self._session() as s:
            rows = s.execute(select(Feedback, Message).join(Message, Feedback.message_id == Message.id)
                             .where(Feedback.rating == rating).order_by(Feedback.created_at)).all()
            for fb, msg in rows:
                before = s.scalars(select(Message).where(Message.conversation_id == msg.conversation_id,
                                                         Message.seq < msg.seq).order_by(Message.seq)).all()
                question = before[-1].content if before and before[-1].role == "user" else ""
                history = [{"role": m.role, "content": m.content} for m in before[:-1]]
                yield Exchange(message_id=msg.id, question=question, answer=msg.content, refused=msg.refused,
                               citations=list(msg.citations), history=history[-12:], rating=fb.rating,
                               comment=fb.comment)
