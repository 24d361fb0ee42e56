"""The program finder: from an SME's situation to a short list of programs that fit, with cited reasons.

It asks at most three short questions, and only when the answer would change the list: the facet that
splits the best candidates most evenly is asked first. The conversation itself is the state: the
profile is rebuilt from the user's turns, and the wording of the bot's questions says which field each
answer fills.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from bot.finder.llm_assist import JUDGED, YES_BONUS, AssistFailed, FinderLLM, merge
from bot.finder.match import CIRCUMSTANCE_WORDS, SME_EXPLICIT, CatalogueProgram, Match, has_any, rank
from bot.finder.profile import Profile, Vocabulary, apply_size_rules, extract, size_needs_capital
from bot.schema import Citation
from bot.turns import asked_field
from retrieval.catalogue.model import call_status
from retrieval.corpus import Manifest
from retrieval.glossary import Glossary
from retrieval.loaders import load
from retrieval.text import nfkc, tokenize
from retrieval.types import Hit

MAX_QUESTIONS = 3
STRONG_RELEVANCE = 0.5  # a program passage among the first four search hits
SHORT_LIST = 5
# The question for each facet; the turn's metadata (bot/turns.py) tells a later turn which field it asked.
QUESTIONS = {
    "goals": "どんなことに取り組みたいですか？（例：設備投資、IT化、研究開発、販路開拓、事業承継、資金繰り、省エネ）",
    "circumstances": "災害で被害を受けた、創業したばかり、売上が減ったなど、特別な事情はありますか？",
    "region": "事業所はどちらの都道府県にありますか？",
    "industry": "業種を教えてください（例：製造業、小売業、飲食業、サービス業、建設業）。",
    "employees": "従業員は何人くらいですか？",
    "capital_yen": "資本金はいくらですか？（中小企業に当たるかは、従業員数か資本金のどちらかが基準以内かで決まります）",
}
# Most discriminating first when the split is even: goals decide most, then circumstances, region …
FACET_ORDER = ("goals", "circumstances", "region", "industry", "employees")
UNKNOWN_HINT = "（わからなければ「わからない」とお答えください）"
NOTE = "候補は登録資料に基づく目安です。要件・補助率・公募期間は、必ず最新の公募要領でご確認ください。"
NO_FIT = ("ご状況に合う事業は、登録されている資料からは見つかりませんでした。最寄りのよろず支援拠点に"
          "ご相談いただくか、関心のある事業の最新の公募要領をご確認ください。")


class FinderReason(BaseModel):
    text: str
    citations: list[Citation]


class FinderProgram(BaseModel):
    name: str
    score: float
    reasons: list[FinderReason]
    to_check: list[str]
    amounts: list[FinderReason] = Field(default_factory=list, description="cap, rate and budget as written")
    fit: str | None = Field(None, description="the language model's verdict (yes / maybe), when one judged")


class FinderResult(BaseModel):
    """What `advisor find --json` prints."""

    profile: dict
    question: str | None
    question_field: str | None = None
    programs: list[FinderProgram]
    message: str = ""
    note: str = NOTE
    notice: str = ""  # the language model could not help this time: the rules chose alone


class Finder:
    """Built once per process from the catalogue, the glossary's situation words and the corpus."""

    def __init__(self, programs: Sequence[CatalogueProgram], vocabulary: Vocabulary, corpus_dir: Path,
                 search: Callable[[str], Sequence[Hit]] | None = None, min_similarity: float = 0.0,
                 llm: FinderLLM | None = None, today: Callable[[], datetime.date] = datetime.date.today) -> None:
        self.programs = list(programs)
        self.today = today  # a call whose 受付期間 has ended is not offered; one not yet open says so
        self.llm = llm  # reads plain words and judges candidates (bot/finder/llm_assist.py); None: rules only
        self.vocabulary = vocabulary
        self.corpus_dir = corpus_dir
        self.search = search
        self.min_similarity = min_similarity  # hits less similar than this say nothing about fit
        self._manifest = Manifest.load(corpus_dir)
        self._glossary = Glossary.load(corpus_dir / "glossary.yaml")
        self._spans = _spans(self.programs)

    def relevance(self, text: str) -> dict[int, float]:
        """How close the situation is to each program's passages: the best hit inside the program's
        lines, weighted by its rank (1.0 for the top hit). Empty without a search function."""
        if self.search is None or not text.strip():
            return {}
        found: dict[int, float] = {}
        for position, hit in enumerate(self.search(text), 1):
            if hit.similarity < self.min_similarity:
                continue
            p = hit.passage
            weight = 1.0 / position ** 0.5
            for i, (start, end) in self._spans.get(p.source, []):
                if p.start_line <= end and p.end_line >= start:
                    found[i] = max(found.get(i, 0.0), weight)
        return found

    def said_words(self, text: str) -> list[str]:
        """The user's content words and the glossary words they stand for (「一緒に」 -> 連携)."""
        words = [t for t in tokenize(text) if len(t) >= 2]
        return words + [w for e in self._glossary.expand(text) for w in (e, *tokenize(e)) if len(w) >= 2]

    def profile_of(self, turns: Sequence[dict]) -> Profile:
        """The profile from a conversation: user turns in order, each read as the answer to the question before it."""
        return self._read(turns)[0]

    def _read(self, turns: Sequence[dict]) -> tuple[Profile, str]:
        """The profile, and a notice when the language model was asked and could not help."""
        profile, asked, notice = Profile(), None, ""
        for turn in turns:
            if turn.get("role") == "assistant":
                asked = asked_field(turn)
            elif turn.get("role") == "user":
                text = turn.get("content", "")
                before = profile
                profile = extract(text, self.vocabulary, profile, asked)
                if self.llm is not None and len(profile.unknown) == len(before.unknown):  # not a 「わからない」
                    try:
                        reading = self.llm.read(text, asked)
                    except AssistFailed as failed:
                        notice = failed.notice
                    else:
                        profile = merge(profile, reading, extract(text, self.vocabulary, None, asked))
                        apply_size_rules(profile, self.vocabulary)
                asked = None
        return profile, notice

    def find(self, situation: str, history: Sequence[dict] = (), ask: bool = True) -> FinderResult:
        turns = [*history, {"role": "user", "content": situation}]
        profile, notice = self._read(turns)
        asked = sum(1 for t in history if asked_field(t))
        said = " ".join(t.get("content", "") for t in turns if t.get("role") == "user")
        matches = rank(profile, self.programs, self.vocabulary, relevance=self.relevance(said),
                       said=self.said_words(said))
        matches = [m for m in (self._cited(m) for m in matches) if m is not None and self._status(m) != "受付終了"]
        facet = self.next_question(profile, matches, asked) if ask else None
        if self.llm is not None and matches and not notice:
            matches, notice = self._judged(said, profile, matches)
        summary = f"ご状況: {profile.summary()}"
        if facet:
            question = QUESTIONS[facet] + UNKNOWN_HINT
            return FinderResult(profile=self._profile_json(profile), question=question, question_field=facet,
                                programs=[self._program(m) for m in matches[:SHORT_LIST]],
                                message=summary, notice=notice)
        short = matches[:SHORT_LIST]
        return FinderResult(profile=self._profile_json(profile), question=None,
                            programs=[self._program(m) for m in short],
                            message=summary + ("" if short else "\n" + NO_FIT), notice=notice)

    def _judged(self, said: str, profile: Profile, matches: list[Match]) -> tuple[list[Match], str]:
        """The first candidates as the model judges them: "no" dropped, "yes" moved up; the rules' list
        unchanged (with a notice) when the model cannot answer."""
        assert self.llm is not None
        head = matches[:JUDGED]
        try:
            verdicts = self.llm.judge(said, profile, head)
        except AssistFailed as failed:
            return matches, failed.notice
        kept = []
        for m, fit in zip(head, verdicts, strict=True):
            if fit == "no":
                continue
            m.fit = fit
            m.score += YES_BONUS if fit == "yes" else 0.0
            kept.append(m)
        kept.sort(key=lambda m: (-m.score, m.program.name))
        return kept, ""

    def next_question(self, profile: Profile, matches: list[Match], asked: int) -> str | None:
        """The facet whose answer would change the short list most, or None when no answer would."""
        if asked >= MAX_QUESTIONS or profile.only_personal():
            return None
        open_facets = [f for f in FACET_ORDER if f not in profile.unknown and not _filled(profile, f)]
        if "goals" in open_facets and not any(m.relevance >= STRONG_RELEVANCE for m in matches[:3]):
            return "goals"  # no goal and nothing the words point to: every program is a candidate
        top, pool = matches[:3], matches[:SHORT_LIST + 3]
        if ("capital_yen" not in profile.unknown and size_needs_capital(profile, self.vocabulary)
                and any(_having_sme(m.program) for m in top)):
            return "capital_yen"  # more employees than the size table allows: the capital decides 中小企業
        if len(pool) < 2:
            return None
        best, best_split = None, 0
        for facet in (f for f in open_facets if f != "goals"):
            # Asked only when the answer can change the first three: one of them depends on it while
            # another candidate does not (or the other way round).
            in_top = sum(1 for m in top if facet in m.open_facets)
            in_pool = sum(1 for m in pool if facet in m.open_facets)
            if not in_top or in_pool == len(pool):
                continue
            split = min(in_pool, len(pool) - in_pool)
            if split > best_split:
                best, best_split = facet, split
        return best

    # --- rendering -----------------------------------------------------------------------------

    def _cited(self, m: Match) -> Match | None:
        m.reasons = [r for r in m.reasons if r.fields]
        return m if m.reasons else None

    def _status(self, m: Match) -> str | None:
        deadline = m.program.fields.get("deadline")
        return call_status(deadline.value, self.today()) if deadline is not None else None

    def _program(self, m: Match) -> FinderProgram:
        reasons = [FinderReason(text=r.text + "：「" + _excerpt(m.program.fields[r.fields[0]].value, r.words) + "」",
                                citations=[self._citation(m.program, f, n) for n, f in enumerate(r.fields, 1)])
                   for r in m.reasons]
        labels = {"cap": "補助上限", "rate": "補助率", "budget": "予算額"}
        amounts = [FinderReason(text=f"{labels[f]}: {m.program.fields[f].value}",
                                citations=[self._citation(m.program, f, 1)])
                   for f in ("cap", "rate", "budget") if f in m.program.fields]
        if status := self._status(m):  # a call with dates: whether it can be applied for today, and until when
            amounts.append(FinderReason(text=f"{status}（受付期間・締切: {m.program.fields['deadline'].value}）",
                                        citations=[self._citation(m.program, "deadline", 1)]))
        return FinderProgram(name=m.program.name, score=round(m.score, 2), reasons=reasons,
                             to_check=list(dict.fromkeys(m.to_check)), amounts=amounts, fit=m.fit)

    def _citation(self, program: CatalogueProgram, name: str, n: int) -> Citation:
        f = program.fields[name]
        lines = self._lines(f.source)[f.start_line - 1:f.end_line]
        return Citation(n=n, source=f.source, title=self._manifest.title(f.source) or f.source,
                        section=program.name, start_line=f.start_line, end_line=f.end_line,
                        text="\n".join(lines))

    @functools.lru_cache(maxsize=16)  # noqa: B019 - one Finder per process, a handful of documents
    def _lines(self, source: str) -> tuple[str, ...]:
        return load(self.corpus_dir / source).lines

    @staticmethod
    def _profile_json(profile: Profile) -> dict:
        return profile.model_dump(exclude_none=True) | {"summary": profile.summary()}


def _spans(programs: Sequence[CatalogueProgram]) -> dict[str, list[tuple[int, tuple[int, int]]]]:
    """Per corpus file, the line range each program's heading and fields cover."""
    spans: dict[str, list[tuple[int, tuple[int, int]]]] = {}
    for i, program in enumerate(programs):
        cited = list(program.fields.values())
        heading = getattr(program, "heading", None)
        if heading is not None:
            cited.append(heading)
        by_source: dict[str, list[int]] = {}
        for c in cited:
            by_source.setdefault(c.source, []).extend([c.start_line, c.end_line])
        for source, lines in by_source.items():
            spans.setdefault(source, []).append((i, (min(lines), max(lines))))
    return spans


def _having_sme(program: CatalogueProgram) -> bool:
    """Is the program made for SMEs (so that whether the business is one decides)?"""
    text = " ".join([program.name, *(f.value for f in program.fields.values())])
    return has_any(nfkc(text), SME_EXPLICIT)


def _filled(profile: Profile, facet: str) -> bool:
    value = getattr(profile, facet, None)
    if facet == "employees":
        return profile.employees is not None or profile.size is not None
    if facet == "circumstances":  # 「特別な事情はない」 / 「災害の被害はない」 answer the question too
        return bool(profile.circumstances or set(profile.ruled_out) & set(CIRCUMSTANCE_WORDS))
    return bool(value)


def _excerpt(text: str, words: Sequence[str] = (), limit: int = 60) -> str:
    """The value as written, cut to about `limit` characters around the first matched word."""
    one = " ".join(text.split())
    if len(one) <= limit:
        return one
    folded = nfkc(one)  # NFKC keeps positions for the common CJK text; used only to find the word
    at = min((i for i in (folded.find(nfkc(w)) for w in words) if i >= 0), default=0)
    start = max(0, min(at - limit // 3, len(one) - limit))
    piece = one[start:start + limit]
    return ("…" if start else "") + piece + ("…" if start + limit < len(one) else "")


def programs_from_json(items: Iterable[dict]) -> list[CatalogueProgram]:
    """Catalogue entries in the `advisor programs --json` shape, as objects the matcher reads."""
    from types import SimpleNamespace

    return [SimpleNamespace(name=i["name"], nicknames=list(i.get("nicknames", [])),
                            fields={k: SimpleNamespace(**v) for k, v in i.get("fields", {}).items()})
            for i in items]
