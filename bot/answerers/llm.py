"""The LLM answerer: grounded generation through any LangChain chat model, every sentence verified.

1. A follow-up question (「その補助率は？」) is first rewritten with its history into a standalone question
   (prompts/rewrite_followup.md); the engine searches with it.
2. The top passages go to the model inside numbered, delimited blocks (prompts/grounded_answer.md), the
   question inside <question>; the system prompt says their content is data, never instructions, and any
   `<`/`>` in document or user text is neutralised so nothing can close a block early.
3. Each generated sentence is checked against the passage(s) it cites (bot/answerers/verify.py); unsupported
   sentences and markers to passages that were not given are dropped. Nothing supported left: the extractive
   answer, with a notice. The model answering NO_ANSWER (the passages do not say): a refusal.
4. Streaming: the model's tokens are buffered per sentence, each finished sentence verified and passed on at
   once, so a reader never sees a sentence that is then withdrawn.
5. The extractive answerer's calibrated refusal is kept (refusal_gate, on by default): when no retrieved
   sentence covers the question or states the kind of fact asked for (a deadline, an amount...), the answer is
   a refusal and the model is not asked. Verification proves a sentence is grounded, not that it answers the
   question; the gate keeps "refuses to guess" as measured for the extractive answerer.
6. Any provider failure (timeout, rate limit, error, missing package) is logged as a warning without the key,
   and the extractive answer is given with a short notice. After a failure the model is left alone for
   `cooldown` seconds, so that an outage costs users one timeout, not one per question.

Sentences come back tied to hit indexes (a Draft), so the engine numbers citations exactly as for the
extractive answerer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from bot.answerers.base import LLM_DEFAULTS, Answerer, Draft, Sentence
from bot.answerers.chat_model import ChatModel, message_text
from bot.answerers.verify import DEFAULT_MIN_SUPPORT, MARKER_RE, Claim, claims, verify
from bot.prompts import PromptError, chat_prompt, prompt_text
from retrieval.search import Query
from retrieval.text import nfkc, tokenize
from retrieval.types import Hit

log = logging.getLogger("advisor.llm")

NO_ANSWER = "NO_ANSWER"
NOTICE_FAILED = ("※ AIによる回答文の作成ができなかったため（{why}）、資料の該当箇所をそのまま引用してお答えしています。")
NOTICE_UNVERIFIED = ("※ AIが作成した文を出典の記載で確かめられなかったため、資料の該当箇所をそのまま引用してお答えしています。")
_WHY = {"timeout": "応答の時間切れ", "rate_limit": "利用の混雑", "config": "設定の不備", "error": "接続エラー",
        "cooldown": "直前の接続エラー"}

_END_RE = re.compile(r"[。！？!?]|\n")
_MARKERS_AFTER_RE = re.compile(r"(?:\s*" + MARKER_RE.pattern + r")*")
_PARTIAL_MARKER_RE = re.compile(r"\s*[\[［【][\d\s,、，]*$")


def escape(text: str) -> str:
    """Document or user text made safe to put inside a delimited block: no tag can be opened or closed."""
    return text.replace("<", "＜").replace(">", "＞")


def _attr(text: str) -> str:
    return escape(text).replace('"', "”").replace("\n", " ")


def passages_block(hits: Sequence[Hit]) -> str:
    """The numbered passages as the model sees them: <passage n=... source=... lines=...>text</passage>."""
    blocks = []
    for n, hit in enumerate(hits, 1):
        p = hit.passage
        blocks.append(f'<passage n="{n}" source="{_attr(p.source)}" lines="{p.start_line}-{p.end_line}" '
                      f'title="{_attr(p.title)}" section="{_attr(p.section)}">\n{escape(p.text)}\n</passage>')
    return "\n".join(blocks)


def history_block(history: Sequence[dict], turns: int = 6, answer_chars: int = 300) -> str:
    lines = []
    for turn in list(history)[-2 * turns:]:
        role = "user" if turn.get("role") == "user" else "assistant"
        content = str(turn.get("content") or "")
        if role == "assistant":
            content = MARKER_RE.sub("", content)[:answer_chars]
        lines.append(f'<turn role="{role}">{escape(content)}</turn>')
    return "\n".join(lines)


def split_finished(buffer: str) -> tuple[str, str]:
    """The finished sentences at the head of a growing text, and the rest. A sentence is finished when its
    end (。！？ or a line break) and any [n] markers after it are followed by more text."""
    cut = 0
    for m in _END_RE.finditer(buffer):
        after = _MARKERS_AFTER_RE.match(buffer, m.end())
        end = after.end() if after else m.end()
        rest = buffer[end:]
        if not rest.strip() or _PARTIAL_MARKER_RE.match(rest):
            break  # a marker may still come
        cut = max(cut, end)
    return buffer[:cut], buffer[cut:]


class LLMAnswerer:
    """A GenerativeAnswerer (bot/answerers/base.py) over a LangChain chat model, with an extractive fallback."""

    def __init__(self, model: Any = None, *, fallback: Answerer, model_factory: Callable[[], Any] | None = None,
                 passages: int = LLM_DEFAULTS.passages, min_support: float = DEFAULT_MIN_SUPPORT,
                 persona: str = LLM_DEFAULTS.persona, rewrite_followups: bool = LLM_DEFAULTS.rewrite_followups,
                 cooldown: float = 0.0, secrets: Iterable[str] = (),
                 refusal_gate: bool = LLM_DEFAULTS.refusal_gate) -> None:
        if model is None and model_factory is None:
            raise ValueError("LLMAnswerer needs a chat model or a model_factory")
        self.chat = ChatModel(model, factory=model_factory, cooldown=cooldown, secrets=secrets)
        self.fallback = fallback
        self.passages = passages
        self.min_support = min_support
        self.persona = persona
        self.rewrite_followups = rewrite_followups
        self.refusal_gate = refusal_gate

    @classmethod
    def from_settings(cls, settings, fallback: Answerer) -> LLMAnswerer:
        from bot.answerers.llm_provider import make_chat_model

        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
        return cls(model_factory=lambda: make_chat_model(settings), fallback=fallback,
                   passages=settings.llm_passages, min_support=settings.llm_min_support, persona=settings.persona,
                   rewrite_followups=settings.llm_rewrite_followups, cooldown=settings.llm_cooldown, secrets=[key],
                   refusal_gate=settings.llm_refusal_gate)

    @property
    def model(self):
        """The chat model, built on first use (a configuration error surfaces here, as a failure)."""
        return self.chat.model

    # --- the GenerativeAnswerer interface ---------------------------------------------------------

    def rewrite(self, question: str, history: Sequence[dict]) -> str | None:
        """A follow-up and its history as one standalone question (None: keep the question as it is)."""
        if not self.rewrite_followups or not history or self.chat.cooling():
            return None
        messages = chat_prompt("rewrite_followup").format_messages(history=history_block(history),
                                                                   question=escape(question))
        try:
            text = message_text(self.model.invoke(messages))
        except Exception as exc:
            self._failed(exc, "rewrite")
            return None
        line = next((x.strip().strip("「」\"'") for x in text.splitlines() if x.strip()), "")
        if not line or NO_ANSWER in line or len(line) > 4 * len(question) + 200:
            return None
        log.debug("follow-up %r rewritten as %r", question, line)
        return line

    def answer(self, query: Query, hits: list[Hit], persona: str | None = None) -> Draft:
        extractive = self.fallback.answer(query, hits)
        if self.refusal_gate and extractive.refused:
            return _gated(extractive)
        if self.chat.cooling():
            return _with_notice(extractive, NOTICE_FAILED.format(why=_WHY["cooldown"]))
        given = hits[: self.passages]
        try:
            text = message_text(self.model.invoke(self.messages(query, given, persona)))
        except Exception as exc:
            return _with_notice(extractive, self._failed(exc, "answer"))
        sentences = list(self._verified(claims(text), query, given))
        return self._draft(sentences, text, extractive)

    def stream(self, query: Query, hits: list[Hit], persona: str | None = None) -> Iterator[Sentence | Draft]:
        """Verified sentences as the model finishes them, then the final Draft."""
        extractive = self.fallback.answer(query, hits)
        if self.refusal_gate and extractive.refused:
            yield _gated(extractive)
            return
        if self.chat.cooling():
            yield _with_notice(extractive, NOTICE_FAILED.format(why=_WHY["cooldown"]))
            return
        given = hits[: self.passages]
        buffer, text, kept = "", "", []
        seen: set[str] = set()
        try:
            for chunk in self.model.stream(self.messages(query, given, persona)):
                piece = message_text(chunk)
                buffer += piece
                text += piece
                finished, buffer = split_finished(buffer)
                for sentence in self._verified(claims(finished), query, given, seen):
                    kept.append(sentence)
                    yield sentence
        except Exception as exc:
            yield _with_notice(extractive, self._failed(exc, "stream"))
            return
        for sentence in self._verified(claims(buffer), query, given, seen):
            kept.append(sentence)
            yield sentence
        yield self._draft(kept, text, extractive)

    # --- prompt -------------------------------------------------------------------------------------

    def messages(self, query: Query, hits: Sequence[Hit], persona: str | None = None) -> list:
        question = query.question
        if query.context:
            question += f"\n（これまでの質問: {query.context.replace(chr(10), ' / ')}）"
        return chat_prompt("grounded_answer").format_messages(
            persona=_persona(persona or self.persona), passages=passages_block(hits), question=escape(question))

    # --- helpers ------------------------------------------------------------------------------------

    def _verified(self, found: list[Claim], query: Query, hits: Sequence[Hit],
                  seen: set[str] | None = None) -> Iterator[Sentence]:
        seen = set() if seen is None else seen
        passages = [h.passage for h in hits]
        extra = set(tokenize(" ".join(query.expansions))) if query.expansions else set()
        for claim in found:
            if NO_ANSWER in nfkc(claim.text).upper():
                continue
            verdict = verify(claim, passages, self.min_support, extra)
            if not verdict.supported:
                log.info("dropped an unsupported sentence (support %.2f, numbers %s, cites %s): %.80s",
                         verdict.support, "ok" if verdict.numbers_ok else "missing", list(claim.cited), claim.text)
                continue
            if claim.text in seen:
                continue
            seen.add(claim.text)
            first, *more = verdict.cited
            yield Sentence(text=claim.text, hit=first - 1, also=tuple(n - 1 for n in more))

    def _draft(self, sentences: list[Sentence], text: str, extractive: Draft) -> Draft:
        if sentences:
            return Draft(sentences=sentences, reason=f"llm: {len(sentences)} verified sentences")
        if NO_ANSWER in nfkc(text).upper():
            return Draft(refused=True, reason="llm: the passages do not answer")
        log.info("no generated sentence was supported by its passage; answering extractively")
        return _with_notice(extractive, NOTICE_UNVERIFIED)

    def _failed(self, exc: BaseException, stage: str) -> str:
        return NOTICE_FAILED.format(why=_WHY[self.chat.failed(exc, stage, "answering extractively")])


def _with_notice(extractive: Draft, notice: str) -> Draft:
    return Draft(sentences=extractive.sentences, refused=extractive.refused,
                 reason=f"extractive fallback: {extractive.reason}", notice=notice)


def _gated(extractive: Draft) -> Draft:
    return Draft(refused=True, reason=f"refusal gate: {extractive.reason}")


def _persona(name: str) -> str:
    try:
        return prompt_text(f"persona_{name}")
    except PromptError:
        return prompt_text("persona_sme")
