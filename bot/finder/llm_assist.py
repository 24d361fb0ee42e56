"""The finder with a language model: it reads a situation told in plain words and judges the candidates.

The rules (bot/finder/profile.py, match.py) stay the backbone; the model only helps where words vary more
than a glossary can follow, and nothing it says reaches the user unchecked:

- `read`: the model returns profile values, each with the words of the message it took them from
  (prompts/finder_profile.md). A value is kept only when those words stand in the message (after NFKC), the
  value is one of the vocabulary's labels (or a prefecture), and a number is among the words it quotes. The
  reading fills what the rules left open; a value the rules took from the user's exact words is kept.
- `judge`: the rules' first candidates go to the model with the purpose and target the catalogue quotes
  (prompts/finder_judge.md); it says for each whether it fits: yes, maybe or no. "no" takes a candidate off
  the list, "yes" moves it up. The model adds no program and writes no reason: every reason shown is still a
  catalogue field with its citation.
- Any failure (timeout, rate limit, unreadable JSON, provider error) leaves the rules' result as it is, with
  a notice; after a failure the model is left alone for `cooldown` seconds, as the LLM answerer does.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any, Literal, TypeGuard

from pydantic import BaseModel, ValidationError

from bot.answerers.chat_model import ChatModel, message_text
from bot.answerers.llm import escape
from bot.finder.match import Match
from bot.finder.profile import Profile, Vocabulary, prefecture_name
from bot.prompts import chat_prompt
from retrieval.text import nfkc, squash, yen_amounts

log = logging.getLogger("advisor.llm")

JUDGED = 8  # candidates the model sees: the short list and the next few that could move into it
YES_BONUS = 4.0  # a "yes" lifts a candidate above the rules' candidates the model left open
NOTICE = "※ AIによる状況の読み取りができなかったため（{why}）、規則だけで候補を選んでいます。"
_WHY = {"timeout": "応答の時間切れ", "rate_limit": "利用の混雑", "config": "設定の不備", "error": "接続エラー",
        "format": "応答の形式の誤り", "cooldown": "直前の接続エラー"}
Fit = Literal["yes", "maybe", "no"]


class Said(BaseModel):
    """One value the model read, with the message's words it read it from."""

    value: str | int
    quote: str


class Reading(BaseModel):
    industry: Said | None = None
    employees: Said | None = None
    capital_yen: Said | None = None
    size: Said | None = None
    region: Said | None = None
    goals: list[Said] = []
    circumstances: list[Said] = []
    ruled_out: list[Said] = []


class Judgement(BaseModel):
    n: int
    fit: Fit


class AssistFailed(RuntimeError):
    """The model could not help this time; `kind` says why (timeout, rate_limit, format, config, error)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind

    @property
    def notice(self) -> str:
        return NOTICE.format(why=_WHY.get(self.kind, _WHY["error"]))


class FinderLLM:
    """Reads situations and judges candidates for the Finder through a ChatModel (the LLM answerer's, when
    there is one: one model and one cooldown per process)."""

    def __init__(self, vocabulary: Vocabulary, model: Any = None, *, chat: ChatModel | None = None,
                 cooldown: float = 0.0, secrets: Sequence[str] = ()) -> None:
        self.vocabulary = vocabulary
        self.chat = chat or ChatModel(model, cooldown=cooldown, secrets=secrets)
        self.calls = 0  # requests sent (the eval reports it)

    # --- reading a message -----------------------------------------------------------------------

    def read(self, message: str, asked: str | None = None) -> Reading:
        """What the model reads in one user message, every value checked against the message's words."""
        return self._read(message, asked or "")

    @functools.lru_cache(maxsize=512)  # noqa: B019 - one FinderLLM per process; a conversation re-reads its turns
    def _read(self, message: str, asked: str) -> Reading:
        facets = self.vocabulary.facets
        data = self._ask("finder_profile", industries=_labels(facets.get("industry")),
                         sizes=_labels(facets.get("size")), goals=_labels(facets.get("goal")),
                         circumstances=_labels(facets.get("circumstance")), asked=asked or "なし",
                         message=escape(message))
        try:
            reading = Reading.model_validate(_clean(data, Reading))
        except ValidationError as exc:
            raise self._unreadable(exc, "finder_profile") from exc
        return checked(reading, message, self.vocabulary)

    # --- judging candidates ----------------------------------------------------------------------

    def judge(self, situation: str, profile: Profile, candidates: Sequence[Match]) -> list[Fit]:
        """The model's verdict on each candidate, in order ("maybe" where it gave none)."""
        blocks = "\n".join(_candidate_block(n, m) for n, m in enumerate(candidates, 1))
        data = self._ask("finder_judge", situation=escape(situation), profile=escape(profile.summary()),
                         candidates=blocks)
        items = data.get("judgements", []) if isinstance(data, dict) else data
        verdicts: list[Fit] = ["maybe"] * len(candidates)
        for item in items if isinstance(items, list) else []:
            try:
                j = Judgement.model_validate(item)
            except ValidationError:
                continue
            if 1 <= j.n <= len(candidates):
                verdicts[j.n - 1] = j.fit
        return verdicts

    # --- the model ---------------------------------------------------------------------------------

    def _ask(self, prompt: str, **values: str) -> Any:
        from langchain_core.utils.json import parse_json_markdown

        if self.chat.cooling():
            raise AssistFailed("cooldown")
        messages = chat_prompt(prompt).format_messages(**values)
        self.calls += 1
        try:
            reply = self.chat.model.invoke(messages)
        except Exception as exc:
            raise AssistFailed(self.chat.failed(exc, prompt, "the finder's rules decide alone")) from exc
        try:
            return parse_json_markdown(message_text(reply))
        except ValueError as exc:  # JSONDecodeError, or no JSON at all: says nothing of the provider's health
            raise self._unreadable(exc, prompt) from exc

    @staticmethod
    def _unreadable(exc: BaseException, stage: str) -> AssistFailed:
        log.warning("LLM %s gave no readable JSON (%s); the finder's rules decide alone", stage, exc)
        return AssistFailed("format")


def checked(reading: Reading, message: str, vocabulary: Vocabulary) -> Reading:
    """Only values the message's own words show: the quote stands in the message, the value is a known label
    (or a prefecture), and numbers appear in the quote."""
    said = squash(message)

    def grounded(s: Said | None) -> TypeGuard[Said]:
        return s is not None and bool(s.quote.strip()) and squash(s.quote) in said

    def label(s: Said | None, facet: str) -> Said | None:
        labels = vocabulary.facets.get(facet, {})
        return s if grounded(s) and isinstance(s.value, str) and s.value in labels else None

    out = Reading()
    out.industry = label(reading.industry, "industry")
    out.size = label(reading.size, "size")
    if grounded(reading.employees) and (employees := _whole(reading.employees.value)) is not None \
            and str(employees) in _digits(reading.employees.quote):
        out.employees = Said(value=employees, quote=reading.employees.quote)
    if grounded(reading.capital_yen) and (capital := _whole(reading.capital_yen.value)) is not None \
            and capital in yen_amounts(nfkc(reading.capital_yen.quote)):
        out.capital_yen = Said(value=capital, quote=reading.capital_yen.quote)
    if grounded(reading.region) and isinstance(reading.region.value, str):
        name = prefecture_name(nfkc(reading.region.value))
        if name:
            out.region = Said(value=name, quote=reading.region.quote)
    out.goals = [s for s in reading.goals if label(s, "goal")]
    out.circumstances = [s for s in reading.circumstances if label(s, "circumstance")]
    out.ruled_out = [s for s in reading.ruled_out if label(s, "goal") or label(s, "circumstance")]
    return out


def merge(profile: Profile, reading: Reading, rules_said: Profile) -> Profile:
    """The rules' profile with what the model read added where the rules heard nothing.

    `rules_said` is what the rules took from this same message: a value the rules found in the user's words
    is not overridden, and a goal the model reads as ruled out is taken back only if the rules did not hear
    it said positively in this message.
    """
    p = profile.model_copy(deep=True)
    if reading.industry and not p.industry:
        p.industry = str(reading.industry.value)
    if reading.employees and p.employees is None:
        p.employees = int(reading.employees.value)
    if reading.capital_yen and p.capital_yen is None:
        p.capital_yen = int(reading.capital_yen.value)
    if reading.region and not p.region:
        p.region = str(reading.region.value)
    if reading.size and not p.size:
        p.size, p.size_basis = str(reading.size.value), "reading"
    for s in reading.ruled_out:
        value = str(s.value)
        if value in rules_said.goals or value in rules_said.circumstances:
            continue
        for values in (p.goals, p.circumstances):
            if value in values:
                values.remove(value)
        if value not in p.ruled_out:
            p.ruled_out.append(value)
    for values, said in ((p.goals, reading.goals), (p.circumstances, reading.circumstances)):
        for s in said:
            value = str(s.value)
            if value not in values and value not in p.ruled_out:
                values.append(value)
    for facet in ("goals", "circumstances", "industry", "employees", "capital_yen", "region"):
        if facet in p.unknown and getattr(p, facet):
            p.unknown.remove(facet)
    return p


def _candidate_block(n: int, m: Match) -> str:
    fields = m.program.fields
    lines = [f"名称: {m.program.name}"]
    for name, label in (("purpose", "目的"), ("support", "支援内容"), ("target", "対象")):
        if name in fields:
            lines.append(f"{label}: {' '.join(fields[name].value.split())[:200]}")
    return f'<program n="{n}">\n' + escape("\n".join(lines)) + "\n</program>"


def _labels(facet: dict | None) -> str:
    return "、".join(facet or {}) or "（なし）"


def _clean(data: Any, model: type[BaseModel]) -> dict:
    """The reply's known keys, with null / empty entries dropped, so one odd field spoils nothing else."""
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    for key in model.model_fields:
        value = data.get(key)
        if isinstance(value, list):
            out[key] = [v for v in value if isinstance(v, dict) and "value" in v and "quote" in v]
        elif isinstance(value, dict) and "value" in value and "quote" in value and value["value"] is not None:
            out[key] = value
    return out


def _whole(value: str | int) -> int | None:
    try:
        return int(nfkc(str(value)).replace(",", ""))
    except ValueError:
        return None


def _digits(text: str) -> str:
    return nfkc(text).replace(",", "")
