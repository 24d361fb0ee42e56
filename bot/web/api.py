"""The HTTP API: requests in, engine calls, the Answer shape out. No retrieval or answer logic here."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field

from bot.engine import Advisor, QuestionError, UnknownSourceError
from bot.schema import Answer, SourceExcerpt
from bot.storage import Store, UnknownMessageError

router = APIRouter()
log = logging.getLogger("advisor.web")

SESSION_ID = r"^[0-9a-f]{32}$"


# A character that is not blank, for JSON Schema (ECMA regex) and Python alike: ECMA's \s lacks U+001C-001F and
# U+0085, which Python's counts, and Python's lacks U+FEFF, which ECMA's counts (bot/engine.py, Advisor.check).
NOT_BLANK = r"[^\s\x1c-\x1f\x85\ufeff]"


class ChatRequest(BaseModel):
    # The engine checks the question (one place, with a readable message); the schema states the same rule.
    question: str = Field(description="利用者の質問 (空白だけは不可; 上限はADVISOR_MAX_QUESTION_CHARS文字)",
                          examples=["IT導入補助金の補助率は？"], json_schema_extra={"minLength": 1, "pattern": NOT_BLANK})
    session_id: str | None = Field(default=None, pattern=SESSION_ID,
                                   description="続きの会話ならその session_id (省略すると新しい会話)")


class ChatResponse(Answer):
    session_id: str
    message_id: str = Field(description="この回答の id (フィードバックで指定)")
    finder: dict | None = Field(None, description="補助金さがし: 伺った状況 (profile)、次の質問、候補の事業名")


class FeedbackRequest(BaseModel):
    message_id: str = Field(pattern=SESSION_ID)
    rating: Literal["up", "down"]
    comment: str = Field(default="", max_length=2000)


class FeedbackResponse(BaseModel):
    feedback_id: str


class Problem(BaseModel):
    detail: str


def _problem(description: str) -> dict:
    """An error response documented as JSON, also on the SSE route (whose own media type is text/event-stream)."""
    return {"description": description, "content": {"application/json": {"schema": Problem.model_json_schema()}}}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _problem("JSONとして読めない本文 (malformed JSON)"),
    422: _problem("受け付けられない入力 (empty or too long question, bad field)"),
    429: _problem("リクエストが多すぎます (rate limit; see Retry-After)"),
    503: _problem("索引が利用できない (index missing or vector store down)"),
}


def advisor(request: Request) -> Advisor:
    return request.app.state.advisor


def store(request: Request) -> Store:
    return request.app.state.store


def rate_limited(request: Request) -> None:
    """One count per client address; over the limit is 429 with Retry-After."""
    client = request.client.host if request.client else "unknown"
    wait = request.app.state.limiter.check(client)
    if wait:
        raise HTTPException(429, detail=f"リクエストが多すぎます。{int(wait)}秒後にもう一度お試しください。"
                                        f" (Too many requests; retry in {int(wait)} s.)",
                            headers={"Retry-After": str(int(wait))})


def checked(body: ChatRequest, engine: Annotated[Advisor, Depends(advisor)]) -> ChatRequest:
    """Reject an empty or over-long question before any work (and before a stream starts)."""
    try:
        engine.check(body.question)
    except QuestionError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    return body


Engine = Annotated[Advisor, Depends(advisor)]
Db = Annotated[Store, Depends(store)]
Chat = Annotated[ChatRequest, Depends(checked)]


@router.post("/api/chat", response_model=ChatResponse, responses=ERRORS, dependencies=[Depends(rate_limited)],
             summary="質問に答える (answer a question, with citations)")
def chat(body: Chat, engine: Engine, db: Db) -> ChatResponse:
    session_id = db.conversation(body.session_id)
    answer = engine.ask(body.question, history=db.history(session_id, engine.settings.history_turns))
    message_id = db.record(session_id, body.question, answer)
    return ChatResponse(**answer.model_dump(), session_id=session_id, message_id=message_id, finder=answer.finder)


@router.post("/api/chat/stream", response_class=EventSourceResponse, responses=ERRORS,
             dependencies=[Depends(rate_limited)],
             summary="質問に答える (server-sent events: status, delta, citation, done)")
def chat_stream(body: Chat, engine: Engine, db: Db) -> Iterator[ServerSentEvent]:
    session_id = db.conversation(body.session_id)
    history = db.history(session_id, engine.settings.history_turns)
    yield _event("session", {"session_id": session_id})
    try:
        for event in engine.stream(body.question, history=history):
            if event.type == "done" and event.answer is not None:
                answer = event.answer
                message_id = db.record(session_id, body.question, answer)
                done = ChatResponse(**answer.model_dump(), session_id=session_id, message_id=message_id,
                                    finder=answer.finder)
                yield ServerSentEvent(event="done", data=done)
            elif event.type == "citation":
                yield ServerSentEvent(event="citation", data=event.citation)
            else:
                yield _event(event.type, {"text": event.text})
    except Exception:  # the stream has started: the error can only travel as an event
        log.exception("answer failed while streaming")
        yield _event("error", {"detail": "回答の作成中にエラーが発生しました。もう一度お試しください。"})


def _event(name: str, data: dict) -> ServerSentEvent:
    return ServerSentEvent(event=name, raw_data=json.dumps(data, ensure_ascii=False))


@router.get("/api/sources/{file}", response_model=SourceExcerpt,
            responses={404: _problem("資料または行の範囲がありません"), 422: ERRORS[422]},
            summary="引用元の行と前後の文脈 (cited lines with context, for the source viewer)")
def source(engine: Engine, file: Annotated[str, Path(max_length=200)],
           start: Annotated[int, Query(ge=1, le=10_000_000)], end: Annotated[int, Query(ge=1, le=10_000_000)],
           context: Annotated[int, Query(ge=0, le=50)] = 8) -> SourceExcerpt:
    try:
        return engine.source_excerpt(file, start, end, context)
    except UnknownSourceError as exc:
        raise HTTPException(404, detail=str(exc)) from exc


class CitedValue(BaseModel):
    value: str
    source: str
    start_line: int
    end_line: int


class ProgramOut(BaseModel):
    """One catalogue entry for the programs page: the `advisor programs --json` fields plus where it is named."""

    id: str
    name: str
    nicknames: list[str]
    parent: str | None = Field(description="この事業を含む事業の名前（PR資料の中の個別事業のとき）")
    reviewed: bool = Field(description="人が確認済みの項目か")
    heading: CitedValue = Field(description="事業名が書かれている箇所")
    fields: dict[str, CitedValue] = Field(description="資料が記す項目（申請締切 deadline を含む）")
    status: str | None = Field(default=None, description="申請締切の日付から見た受付状況（受付中・受付終了・公募予定）")


@router.get("/api/programs", response_model=list[ProgramOut], responses={422: _problem("不明な受付状況 (unknown status)")},
            summary="事業の一覧（各項目に資料と行番号の出典つき） (the program catalogue, every field cited)")
def programs(engine: Engine, status: Annotated[Literal["受付中", "受付終了", "公募予定"] | None, Query(
        description="受付状況で絞り込む（申請締切の日付による。例: 受付中）")] = None) -> list[ProgramOut]:
    catalogue = engine.catalogue
    names = {p.id: p.name for p in catalogue.programs}
    today = engine.settings.today_date
    return [ProgramOut(name=p.name, nicknames=p.nicknames, fields={k: c.model_dump() for k, c in p.fields.items()},
                       status=p.status(today), id=p.id, parent=names.get(p.parent) if p.parent else None,
                       reviewed=p.reviewed, heading=p.heading.model_dump()) for p in catalogue.programs
            if status is None or p.status(today) == status]


@router.post("/api/feedback", response_model=FeedbackResponse, responses=ERRORS | {
    404: _problem("その回答がありません (unknown message_id)")},
             dependencies=[Depends(rate_limited)], summary="回答への評価 (thumbs up/down, optional comment)")
def feedback(body: FeedbackRequest, db: Db) -> FeedbackResponse:
    try:
        return FeedbackResponse(feedback_id=db.add_feedback(body.message_id, body.rating, body.comment))
    except UnknownMessageError as exc:
        raise HTTPException(404, detail="その回答は見つかりません。 (unknown message_id)") from exc


@router.get("/healthz", summary="プロセスが動いている (process up)")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", summary="索引とデータベースが使える (index loaded, stores reachable)",
            responses={503: {"description": "not ready"}})
def readyz(request: Request, engine: Engine, db: Db):
    checks = {"index": engine.ready(), "database": db.ping(), "rate_limit_store": request.app.state.limiter.reachable()}
    status = 200 if all(checks.values()) else 503
    return JSONResponse({"ready": status == 200, "checks": checks}, status_code=status)
