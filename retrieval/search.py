"""Hybrid search: glossary and conversation-aware query, dense + keyword retrieval, rank fusion.

The fused list is always returned in full (callers show it); whether anything in it is relevant
enough to answer from is a separate, calibrated decision (`Retriever.relevant`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from retrieval.glossary import Glossary, program_names
from retrieval.index import PassageIndex
from retrieval.text import nfkc, tokenize
from retrieval.types import Hit

_FOLLOWUP_RE = re.compile(
    r"^(その|それ|この|これ|あの|あれ|同|上記|そこ|そちら|こちら|当該|前者|後者|では|じゃあ|じゃ|また|他に|ほかに|ちなみに)"
    r"|(その|それ|この|これ|同事業|同制度|上記)(の|は|を|に|で|って)"
    r"|\b(it|its|that|this|they|them|those|these)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SearchConfig:
    mode: str = "hybrid"  # "hybrid", "dense" or "keyword"
    fusion: str = "convex"  # "convex" (min-max normalised scores) or "rrf" (reciprocal rank); measured in evals/bench.py
    candidates: int = 50  # taken from each method before fusion
    rrf_k: int = 60
    alpha: float = 0.4  # weight of the dense score in convex fusion
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    # "nothing relevant": below this dense similarity AND with no keyword support, refuse to answer.
    min_similarity: float = 0.815
    history_turns: int = 2
    query_cache: int = 1024  # query vectors kept (a popular question is embedded once); 0: none


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


def _is_latin(text: str) -> bool:
    return sum(ch.isascii() for ch in text) > 0.7 * len(text)


class Retriever:
    def __init__(self, index: PassageIndex, glossary: Glossary | None = None, config: SearchConfig | None = None):
        self.index = index
        self.glossary = glossary or Glossary()
        self.config = config or SearchConfig()
        self._embed_query = self._embed
        if self.config.query_cache > 0:
            self._embed_query = functools.lru_cache(maxsize=self.config.query_cache)(self._embed_query)

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
        # 「実績はどのくらいあるの？」 follows up, 「今日の天気は？」 changes the subject.
        return len(re.sub(r"[\s?？。!！]", "", q)) <= 25 and not names_one and not self._mostly_unknown(q)

    def _mostly_unknown(self, question: str) -> bool:
        """Are most of the question's (Japanese) content words ones no document uses, with no glossary
        word standing in? Then it is about something else (「今日の東京の天気を教えて」)."""
        tokens = [t for t in tokenize(question) if not t.isascii()]
        if self.index is None or not tokens or self.glossary.expand(question):
            return False
        unknown = sum(1 for t in tokens if not self.index.knows(t))
        return unknown * 2 >= len(tokens) and unknown > 0

    def in_scope(self, query: Query) -> bool:
        """Could the documents speak to this question at all (see `_mostly_unknown`)?"""
        return _is_latin(query.question) or not self._mostly_unknown(query.question)

    def search(self, question: str, k: int = 10, history: Sequence[dict] | None = None) -> list[Hit]:
        return self.search_query(self.build_query(question, history), k)

    def search_query(self, query: Query, k: int = 10) -> list[Hit]:
        cfg = self.config
        ranks: dict[str, dict[str, int | None]] = {}
        raw: dict[str, dict[str, float]] = {"dense": {}, "keyword": {}}
        if cfg.mode in {"hybrid", "dense"}:
            vector = self._embed_query(query.text)
            for rank, (pid, sim) in enumerate(self.index.dense(vector, cfg.candidates), 1):
                ranks.setdefault(pid, {})["dense"] = rank
                raw["dense"][pid] = sim
        if cfg.mode in {"hybrid", "keyword"}:
            tokens = tokenize(query.text)
            for rank, (pid, score) in enumerate(self.index.keyword(tokens, cfg.candidates), 1):
                ranks.setdefault(pid, {})["keyword"] = rank
                raw["keyword"][pid] = score
        similarity = raw["dense"]
        scored = [(self._fuse(pid, ranks[pid], raw), pid) for pid in ranks]
        scored.sort(key=lambda x: (-x[0], x[1]))
        hits = []
        for score, pid in scored[:k]:
            r = ranks[pid]
            hits.append(Hit(
                passage=self.index.passages[pid], score=round(score, 6),
                ranks={"dense": r.get("dense"), "keyword": r.get("keyword")},
                similarity=round(similarity.get(pid, 0.0), 4),
            ))
        return hits

    def _fuse(self, pid: str, by_method: dict[str, int | None], raw: dict[str, dict[str, float]]) -> float:
        cfg = self.config
        if cfg.fusion == "convex":
            total = 0.0
            for method, weight in (("dense", cfg.alpha), ("keyword", 1 - cfg.alpha)):
                scores = raw[method]
                if pid in scores:
                    lo, hi = min(scores.values()), max(scores.values())
                    total += weight * ((scores[pid] - lo) / (hi - lo) if hi > lo else 1.0)
            return total
        weights = {"dense": cfg.dense_weight, "keyword": cfg.keyword_weight}
        return sum(weights[m] / (cfg.rrf_k + r) for m, r in by_method.items() if r is not None)

    def relevant(self, hits: Sequence[Hit]) -> bool:
        """Is the best of these close enough to the question to answer from?"""
        if not hits:
            return False
        best = max(h.similarity for h in hits[:5])
        return best >= self.config.min_similarity or any(
            h.ranks.get("keyword") == 1 and h.ranks.get("dense") is not None and h.ranks["dense"] <= 10
            for h in hits[:5]
        )
