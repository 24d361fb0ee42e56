"""Hybrid search: glossary and conversation-aware query, dense + keyword retrieval, rank fusion.

The fused list is always returned in full (callers show it); whether anything in it is relevant
enough to answer from is a separate, calibrated decision (`Retriever.relevant`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from retrieval.corpus import Manifest
from retrieval.coverage import is_latin as _is_latin
from retrieval.coverage import question_weights
from retrieval.glossary import Glossary, frame_names, program_names, program_stem, quoted_terms
from retrieval.index import PassageIndex
from retrieval.text import fiscal_years, nfkc, squash, tokenize
from retrieval.types import Hit, Passage

_FOLLOWUP_RE = re.compile(
    r"^(その|それ|この|これ|あの|あれ|同|上記|そこ|そちら|こちら|当該|前者|後者|では|じゃあ|じゃ|また|他に|ほかに|ちなみに)"
    r"|(その|それ|この|これ|同事業|同制度|上記)(の|は|を|に|で|って)"
    r"|\b(it|its|that|this|they|them|those|these)\b",
    re.IGNORECASE,
)


# A place named as the giver of support (「X市独自の補助」「X町が設けている制度」), not as where the asker is
# (「X市で店を開く」): what a local government offers is said only by documents that name it.
_LOCAL_GIVER_RE = re.compile(
    r"([\u4e00-\u9fff]{1,5}?[市区町村県府都])(?:[がの]?独自|[がの][^。、？?]{0,4}?(?:補助|助成|制度|支援|上乗せ|融資|給付|奨励))"
    # the asker's own town, unnamed, adding to a program or running its own (「うちの町が上乗せしてくれる」)
    r"|((?:うちの|地元の|我が|わが)[市区町村県])[^。？?]{0,20}?(?:上乗せ|独自)")


SearchMode = Literal["hybrid", "dense", "keyword"]
Fusion = Literal["convex", "rrf"]


@dataclass(frozen=True)
class SearchConfig:
    """Search's knobs and their defaults (the one copy: bot/config.py Settings reads its defaults from here)."""

    mode: SearchMode = "hybrid"
    fusion: Fusion = "convex"  # min-max normalised scores, or reciprocal rank; measured in evals/bench.py
    candidates: int = 50  # passages (and as many small units) taken from each method before fusion
    rrf_k: int = 60
    alpha: float = 0.4  # weight of the dense score in convex fusion
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    # "nothing relevant": below this dense similarity AND with no keyword support, refuse to answer.
    min_similarity: float = 0.815  # calibrated: the lowest answerable top-5 similarity on seed_qa (tune) is 0.825
    history_turns: int = 2
    query_cache: int = 1024  # query vectors kept (a popular question is embedded once); 0: none
    units: bool = True  # match small units (lines, rows, items) for their passages; False: passages only
    # Weight of a passage's best small unit beside the passage's own score, per method. Only call documents
    # (the manifest names their program) have units: see Index.build.
    unit_weight: float = 1.0
    scope_boost: float = 0.3  # a passage of the document whose call (program, 枠) the question names ranks higher
    sibling_penalty: float = 0.5  # ...and one of another 枠 of that program lower
    scope_words_in_keywords: bool = False  # keep the words naming a scoped call in the keyword query
    # The fused top re-ranked by how much of the question a passage (with the lines before it: its headings)
    # says, rare words weighing more; measured on the tune splits (recall@1 and MRR), confirmed on held-out.
    coverage_weight: float = 0.7  # beside the fused score scaled to the best one; 0: off
    coverage_depth: int = 10  # how many of the fused top are re-ranked


AROUND_CACHE = 8192  # passages whose words (with those before them) are kept

METHODS = ("dense", "keyword", "dense_unit", "keyword_unit")


@dataclass(frozen=True)
class Query:
    """What was actually searched: the question plus context from history and glossary words."""

    question: str
    context: str = ""
    expansions: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        parts = [self.context, self.question, " ".join(self.expansions)]
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class DocumentNames:
    """What each document says it is (program and 申請枠, from the manifest), to scope a question that names one.

    Several 公募要領 of one program repeat the same paragraphs; the 枠 a question names says which of them
    answers it, and the program it names prefers that program's own documents to those that mention it."""

    calls: dict[str, tuple[str, str]] = field(default_factory=dict)  # source -> (program, track)
    kinds: dict[str, str] = field(default_factory=dict)  # source -> kind of document (公募要領, 交付規程 …)
    # source -> the program a document without a call's identity is about, as its title names it (an
    # evaluation report of one program): a question naming that program prefers its passages
    subjects: dict[str, str] = field(default_factory=dict)
    # source -> the glossary's official name for a call's program: a call under its common name
    # (「IT導入補助金2025」) and its rules under the budget's formal one (「…IT導入支援事業費補助金」) are one program
    official: dict[str, str] = field(default_factory=dict)
    # source -> a call's version: (round 「第2次」, date of the version, its year), to tell an older call from
    # the current one of the same 枠
    versions: dict[str, tuple[str, str, int | None]] = field(default_factory=dict)

    @classmethod
    def of(cls, manifest: Manifest, glossary: Glossary) -> DocumentNames:
        """A call's identity from its manifest entry; for any other document, the program its title names."""
        entries = manifest.entries.items()
        return cls({f: (e.program, e.track) for f, e in entries if e.program},
                   {f: e.kind for f, e in entries if e.program},
                   {f: p for f, e in entries if not e.program and (p := glossary.subject_of(e.title))},
                   {f: p for f, e in entries if e.program and (p := glossary.subject_of(e.program))},
                   {f: (e.round, e.date, _year_of(e.program, e.fiscal_year, e.date)) for f, e in entries if e.program})

    def scope(self, text: str, expansions: Sequence[str] = ()) -> tuple[frozenset[str], frozenset[str]]:
        """(documents the text names, other documents of the same program): empty when it names none.
        Of the documents of one 枠, the kind the text names (「交付規程で」) is meant; else the call itself."""
        q = _key(text)
        named = {src for src, (_, track) in self.calls.items() if track and _key(track) in q}
        kinds = {self.kinds.get(src, "") for src in named}
        if len(kinds) > 1:
            said = {kind for kind in kinds if kind and _key(kind) in q}
            wanted = said or {kind for kind in kinds if kind in CALL_KINDS} or kinds
            named = {src for src in named if self.kinds.get(src, "") in wanted}
        if named:
            # the other 枠 of the program; the same 枠's other documents (its 交付規程) are neither named nor demoted
            programs = {self._family(src) for src in named}
            tracks = {_key(self.calls[src][1]) for src in named}
            siblings = {src for src, (_, track) in self.calls.items()
                        if self._family(src) in programs and _key(track) not in tracks}
            return frozenset(named), frozenset(siblings)
        named = {src for src, (program, _) in self.calls.items() if program and (_key(program) in q or (
            len(_base(program)) >= 4 and _base(program) in q))}
        if named and self.official:
            with_words = _key("\n".join([text, *expansions]))
            named |= {src for src, official in self.official.items() if _key(official) in with_words}
        if not named:
            asked = self.subjects_named(text, expansions)
            named = {src for src, program in self.subjects.items() if program in asked}
        return frozenset(named), frozenset()

    def superseded(self, text: str) -> frozenset[str]:
        """The calls an answer should not quote as current: of several versions of one call (program, 枠 and
        kind of document), all but the newest, or all but the ones the text names by year or round
        (「2024年の」「第2次の」)."""
        years, rounds = asked_years(text), {int(n) for n, _ in _ROUND_RE.findall(nfkc(text))}
        out: set[str] = set()
        for docs in self._version_groups:
            if len(docs) < 2:
                continue
            named = [d for d in docs if (v := self.versions.get(d)) and (
                (v[2] is not None and v[2] in years) or (_round_number(v[0]) in rounds))]
            out |= set(docs) - set(named or [max(docs, key=self._version)])
        return frozenset(out)

    def newest_version(self, src: str) -> str | None:
        """The newest version of the call this document is a version of (itself when it is the newest)."""
        for docs in self._version_groups:
            if src in docs:
                return max(docs, key=self._version)
        return None

    @functools.cached_property
    def _version_groups(self) -> list[list[str]]:
        """The call documents grouped by what they are a version of: program, 枠 and kind of document (made
        once: every search asks)."""
        groups: dict[tuple[str, str, str], list[str]] = {}
        for src, (_, track) in self.calls.items():
            groups.setdefault((self._family(src), _key(track), self.kinds.get(src, "")), []).append(src)
        return list(groups.values())

    def _version(self, src: str) -> tuple[str, int, int]:
        round_, date, year = self.versions.get(src, ("", "", None))
        return date, _round_number(round_) or 0, year or 0

    def _family(self, src: str) -> str:
        """What a call's program is known as across its documents: the glossary's official name, else its own."""
        return self._families[src]

    @functools.cached_property
    def _families(self) -> dict[str, str]:
        return {src: _key(self.official[src]) if src in self.official else _base(program)
                for src, (program, _) in self.calls.items()}

    def subjects_named(self, text: str, expansions: Sequence[str] = ()) -> set[str]:
        """The document subjects (programs) a text names; the glossary's official names (`expansions`) stand in
        for the nicknames a question uses (「サポイン」)."""
        q = _key("\n".join([text, *expansions]))
        return {program for program in self.subjects.values() if _key(program) in q}


_ROUND_RE = re.compile(r"第\s*([0-9]{1,3})\s*(次|回)")
_BARE_YEAR_RE = re.compile(r"(?<![0-9])(20[0-9]{2})(?![0-9])")


def asked_years(text: str) -> set[int]:
    """The years a text names: fiscal years (令和6年度, 2024年度) and bare years (「IT導入補助金2024」)."""
    return fiscal_years(text) | {int(y) for y in _BARE_YEAR_RE.findall(nfkc(text))}


def _round_number(round_: str) -> int | None:
    m = _ROUND_RE.search(nfkc(round_))
    return int(m.group(1)) if m else None


def _year_of(program: str, fiscal_year: str, date: str) -> int | None:
    """A call's year: the one its program's name carries (「…2025」), else its fiscal year's, else its date's."""
    for text in (program, fiscal_year):
        if years := asked_years(text):
            return min(years)
    return int(date[:4]) if re.match(r"20\d\d-", date) else None


CALL_KINDS = ("公募要領", "募集要項", "公募要項", "募集要領")  # the call itself, before its rules and forms


def _key(text: str) -> str:
    return re.sub(r"\s+", "", nfkc(text)).lower()


def _base(program: str) -> str:
    """A program's name without its year (「IT導入補助金2025」 -> 「it導入補助金」)."""
    return re.sub(r"(20\d\d|令和\d+年度?)$", "", _key(program))


class Retriever:
    def __init__(self, index: PassageIndex, glossary: Glossary | None = None, config: SearchConfig | None = None,
                 names: DocumentNames | None = None):
        self.index = index
        self.glossary = glossary or Glossary()
        self.config = config or SearchConfig()
        self.names = names or DocumentNames()
        self._embed_query = self._embed
        if self.config.query_cache > 0:
            self._embed_query = functools.lru_cache(maxsize=self.config.query_cache)(self._embed_query)
        # The same passages come up question after question: their words (with those before them) are kept.
        self._around = functools.lru_cache(maxsize=AROUND_CACHE)(self._tokens_around)

    def _embed(self, text: str) -> np.ndarray:
        return self.index.embedder.embed_query(text)

    def build_query(self, question: str, history: Sequence[dict] | None = None) -> Query:
        """Resolve a follow-up against earlier user turns and add glossary words."""
        context = ""
        if history and self.is_followup(question):
            users = [t["content"] for t in history if t.get("role") == "user" and t.get("content")]
            context = "\n".join(users[-self.config.history_turns:])
        expansions = self.glossary.expand(f"{context}\n{question}")
        return Query(question=question, context=context, expansions=expansions)

    def is_followup(self, question: str) -> bool:
        """Does the question lean on earlier turns (「その補助率は？」, "what about its cap?")?"""
        q = nfkc(question).strip()
        if _FOLLOWUP_RE.search(q):
            return True
        names_one = self.glossary.names_program(q) or bool(program_names(q))
        # A short question leans on the conversation only when its words are the documents' words:
        # 「利用はどれほど進んだの？」 follows up, 「今日の天気は？」 changes the subject.
        return len(re.sub(r"[\s?？。!！]", "", q)) <= 25 and not names_one and not self._mostly_unknown(q)

    def _mostly_unknown(self, question: str) -> bool:
        """Are most of the question's (Japanese) content words ones no document uses, with no glossary
        word standing in? Then it is about something else (「今日の東京の天気を教えて」)."""
        tokens = [t for t in tokenize(question) if not t.isascii()]
        if self.index is None or not tokens or self.glossary.expand(question):
            return False
        unknown = sum(1 for t in tokens if not self.index.knows(t))
        return unknown * 2 >= len(tokens) and unknown > 0

    def in_scope(self, query: Query, unknown: Sequence[str] | None = None) -> bool:
        """Could the documents speak to this question at all (see `_mostly_unknown`, `unknown_names`)?
        `unknown`: the question's `unknown_names`, when the caller has them already."""
        if unknown is None:
            unknown = self.unknown_names(query.question)
        if unknown:
            return False
        return _is_latin(query.question) or not self._mostly_unknown(query.question)

    def unknown_names(self, question: str) -> list[str]:
        """What the question names that no document mentions: programs, quoted terms, support-giving places."""
        return list(dict.fromkeys(self.unknown_programs(question) + self.unknown_terms(question)))

    def unknown_programs(self, question: str) -> list[str]:
        """The programs a question names that no document mentions, by name or by its stem (「…加速化補助金」
        when no passage says 「…加速化」): what the documents say of other programs does not answer it."""
        if self.index is None:
            return []
        out = []
        for name in program_names(question):
            stem = program_stem(name)
            if len(squash(stem)) < 4 or self.glossary.names_program(name):
                continue  # too short to tell (「新規事業」), or a name the glossary knows
            if not self.index.mentions(name) and not self.index.mentions(stem):
                out.append(name)
        return out

    def unknown_terms(self, question: str) -> list[str]:
        """Quoted terms, 申請枠 and support-giving places the question names that no document mentions (and the
        glossary does not translate): the documents cannot say what such a term means, what such a 枠 gives or
        what such a place gives."""
        if self.index is None:
            return []
        text = nfkc(question)
        frames = [f for f in frame_names(text) if f not in self.glossary.generic_frames]
        quoted = [t for t in quoted_terms(text) + frames if len(squash(t)) >= 3 and not self.glossary.expand(t)]
        givers = [m.group(1) or m.group(2) for m in _LOCAL_GIVER_RE.finditer(text)]
        return [t for t in dict.fromkeys(quoted + givers) if not self.index.mentions(t)]

    def search(self, question: str, k: int = 10, history: Sequence[dict] | None = None) -> list[Hit]:
        return self.search_query(self.build_query(question, history), k)

    def search_query(self, query: Query, k: int = 10) -> list[Hit]:
        """Fused hits over passages. Small units are matched too, each list of its own kind, and a unit's score
        counts for its passage (small-to-big): a fact stated on one line lifts the passage that holds it."""
        cfg = self.config
        raw: dict[str, dict[str, float]] = {m: {} for m in METHODS}
        unit_of: dict[str, str] = {}  # passage id -> the unit that matched it best
        asked = query
        named, siblings = self.names.scope(f"{query.context}\n{query.question}", query.expansions)
        # An older version of a call ranks with the other 枠 (below), unless the question names it
        older = self.names.superseded(f"{query.context}\n{query.question}")
        named, siblings = named - older, siblings | older
        naming: set[str] = set()
        # A program that is a document's subject is also the subject of the sections of other documents whose
        # heading path names it (a budget sheet's 「(1) サポイン事業」): their passages are in scope too.
        about: list[str] = []
        if named and not named & self.names.calls.keys():
            programs = self.names.subjects_named(f"{query.context}\n{query.question}", query.expansions)
            about = [_key(n) for p in programs for n in [p, *self.glossary.programs.get(p, [])] if len(_key(n)) >= 3]
        if named and not cfg.scope_words_in_keywords:
            # The words that name the call (its program and 枠) stand in every passage of it; once the scope
            # has chosen the documents, they only lift the lines that repeat the name (a title, a contact
            # block) over the lines that answer, and so do the glossary words they bring (「セキュリティ対策
            # 推進枠」 -> サイバーセキュリティ…). A subject's name stands in its document's title alone: kept,
            # it lifts other documents' passing mentions over the passages about the program.
            names = [w for src in named for w in self.names.calls.get(src, (self.names.subjects.get(src, ""),)) if w]
            naming = set(tokenize(" ".join(names + [w for w in query.expansions if self.glossary.is_program(w)])))
            bare = nfkc(f"{query.context}\n{query.question}")
            for name in sorted(names, key=len, reverse=True):
                bare = bare.replace(nfkc(name), " ")
            kept = set(self.glossary.expand(bare))
            query = Query(query.question, query.context, [e for e in query.expansions if e in kept])
        if cfg.mode in {"hybrid", "dense"}:
            passages, units = self.index.nearest(self._embed_query(query.text), cfg.candidates)
            raw["dense"] = dict(passages)
            self._by_parent(units, raw["dense_unit"], unit_of)
        if cfg.mode in {"hybrid", "keyword"}:
            tokens = tokenize(query.text)
            tokens = [t for t in tokens if t not in naming] or tokens
            raw["keyword"] = dict(self.index.keyword(tokens, cfg.candidates))
            self._by_parent(self.index.keyword_units(tokens, cfg.candidates), raw["keyword_unit"], unit_of)
        if not cfg.units:
            raw["dense_unit"], raw["keyword_unit"], unit_of = {}, {}, {}
        ranks = {m: {pid: n for n, pid in enumerate(found, 1)} for m, found in raw.items()}

        def scoped(score: float, pid: str) -> float:
            passage = self.index.passages[pid]
            source = passage.source
            if about and source not in named and any(k in _key(passage.section) for k in about):
                return score * (1 + cfg.scope_boost)
            return score * (1 + cfg.scope_boost if source in named else cfg.sibling_penalty if source in siblings
                            else 1.0)

        candidates = {pid for found in raw.values() for pid in found}
        fused = sorted(((scoped(self._fuse(pid, ranks, raw), pid), pid) for pid in candidates), key=lambda x: (-x[0], x[1]))
        fused_rank = {pid: n for n, (_, pid) in enumerate(fused, 1)}
        scored = self._by_coverage(asked, fused)
        return [Hit(passage=self.index.passages[pid], score=round(score, 6),
                    ranks={"dense": ranks["dense"].get(pid), "keyword": ranks["keyword"].get(pid),
                           "fused": fused_rank[pid]},
                    similarity=round(raw["dense"].get(pid, 0.0), 4),
                    unit_similarity=round(raw["dense_unit"].get(pid, 0.0), 4),
                    unit=self.index.units[unit_of[pid]] if pid in unit_of else None)
                for score, pid in scored[:k]]

    def _by_coverage(self, query: Query, scored: list[tuple[float, str]]) -> list[tuple[float, str]]:
        """The fused top re-ranked by the share of the question each passage says (with its heading path and the
        passages just before it). Fusion weighs a dense and a keyword score that both reward a passage on the
        topic; this rewards the one that says what was asked, so the answer is quoted from it. Scores come out
        scaled to the best fused one, so those past the re-ranked top stay below it."""
        cfg = self.config
        if not scored:
            return scored
        best = scored[0][0] or 1.0
        out = [(score / best, pid) for score, pid in scored]
        if not cfg.coverage_weight:
            return out
        idx = self.index
        weights = question_weights(query.question, query.context, query.expansions, idx.idf, idx.knows)
        head = sorted(((score + cfg.coverage_weight * weights.coverage(self._around(idx.passages[pid])), pid)
                       for score, pid in out[:cfg.coverage_depth]), key=lambda x: (-x[0], x[1]))
        return head + out[cfg.coverage_depth:]

    def _tokens_around(self, passage: Passage) -> frozenset[str]:
        """Keyed by the whole passage, not its id: an index rebuilt under the same ids never shares an entry."""
        return frozenset(t for p in [*self.index.passages_before(passage), passage]
                         for t in tokenize(p.text))

    def _by_parent(self, found: list[tuple[str, float]], scores: dict[str, float], unit_of: dict[str, str]) -> None:
        """A method's unit list as passage scores: each passage takes its best unit's score (in rank order)."""
        for uid, score in found:
            pid = self.index.units[uid].parent
            if pid not in scores:
                scores[pid] = score
                unit_of.setdefault(pid, uid)

    def _fuse(self, pid: str, ranks: dict[str, dict[str, int]], raw: dict[str, dict[str, float]]) -> float:
        cfg = self.config
        unit = cfg.unit_weight
        weights = {"dense": cfg.alpha, "keyword": 1 - cfg.alpha, "dense_unit": unit * cfg.alpha,
                   "keyword_unit": unit * (1 - cfg.alpha)}
        if cfg.fusion == "convex":
            total = 0.0
            for method, weight in weights.items():
                scores = raw[method]
                if pid in scores:
                    lo, hi = min(scores.values()), max(scores.values())
                    total += weight * ((scores[pid] - lo) / (hi - lo) if hi > lo else 1.0)
            return total
        weights = {"dense": cfg.dense_weight, "keyword": cfg.keyword_weight,
                   "dense_unit": unit * cfg.dense_weight, "keyword_unit": unit * cfg.keyword_weight}
        return sum(weights[m] / (cfg.rrf_k + r[pid]) for m, r in ranks.items() if pid in r)

    def relevant(self, hits: Sequence[Hit]) -> bool:
        """Is the best of these close enough to the question to answer from?"""
        if not hits:
            return False
        # A passage that its best unit, its scope or its keywords lifted into the top has no passage-level
        # dense score of its own; its unit's similarity is then how close it is (0.0 is "not measured").
        # The fused top 5, as calibrated: the re-ranking by coverage reorders the list, not what it found.
        top = sorted(hits, key=lambda h: h.ranks.get("fused") or len(hits))[:5]
        best = max(max(h.similarity, h.unit_similarity) for h in top)
        return best >= self.config.min_similarity or any(
            h.ranks.get("keyword") == 1 and (dense := h.ranks.get("dense")) is not None and dense <= 10
            for h in top
        )
