"""Extractive answering: pick the document sentences that answer the question, each with its citation.

No LLM: every sentence of the answer is a sentence of a cited passage, so the answer can only be
as wrong as the choice of sentences. The choice weighs how much of the question (rare words count
more) a sentence covers, whether it holds the kind of fact asked for (an amount, a rate, a period…),
and how high its passage ranked. When no sentence covers enough of the question, it refuses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.answerers.base import Draft, Sentence
from retrieval.search import Query
from retrieval.text import add_year_aliases, nfkc, normalize, split_sentences, tokenize
from retrieval.types import Hit

# What a question asks for, and how a sentence that gives it looks.
ASPECTS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "amount": (
        re.compile(r"上限|金額|いくら|予算|円|額|how much|budget|amount|cap|maximum|yen|cost", re.I),
        re.compile(r"\d[\d,.]*\s*(兆|億|万|千)?\s*円|円"),
    ),
    "rate": (
        re.compile(r"補助率|助成率|割合|何割|率|rate|ratio|percent|%|％", re.I),
        re.compile(r"\d+\s*/\s*\d+|\d+\s*分の\s*\d+|\d+(\.\d+)?\s*[%％]|[0-9０-９一二三四五六七八九十]割|定額|10/10"),
    ),
    "period": (
        re.compile(r"期間|いつ|何年|期限|年間|から|まで|when|period|how long|year|duration|until", re.I),
        re.compile(r"\d+\s*(年度|年間|年|か月|ヶ月|カ月|月)|令和|平成|まで|から"),
    ),
    "count": (
        re.compile(r"件数|何件|何社|何人|何者|数は|how many|number of", re.I),
        re.compile(r"\d[\d,]*\s*(件|社|者|人|名|カ所|ヶ所|か所|者|校|団体)"),
    ),
    "target": (
        re.compile(r"対象|誰|どんな(企業|会社|事業者)|どのような(企業|者)|who|eligible|target", re.I),
        re.compile(r"対象|事業者|企業|者"),
    ),
}
_MIN_SENTENCE_CHARS = 6
_MAX_ANSWER_CHARS = 320
_MAX_SENTENCES = 3


@dataclass(frozen=True)
class _Candidate:
    text: str
    hit: int
    coverage: float  # share of the question's weight this sentence (with its section) covers
    score: float
    covered: frozenset[str]
    aspects: frozenset[str]


class ExtractiveAnswerer:
    def __init__(self, idf: Callable[[str], float], min_coverage: float = 0.45, passages_considered: int = 6):
        self.idf = idf
        self.min_coverage = min_coverage
        self.passages_considered = passages_considered

    def answer(self, query: Query, hits: list[Hit]) -> Draft:
        weights = self._question_weights(query)
        asked = {name for name, (q_re, _) in ASPECTS.items() if q_re.search(nfkc(query.question))}
        candidates = self._candidates(hits, weights, asked)
        if not candidates:
            return Draft(refused=True, reason="no candidate sentence")
        best = max(candidates, key=lambda c: c.score)
        if best.coverage < self.min_coverage:
            return Draft(refused=True, reason=f"coverage {best.coverage:.2f} < {self.min_coverage}")
        chosen = [best]
        covered, found = set(best.covered), set(best.aspects)
        for cand in sorted(candidates, key=lambda c: -c.score):
            if len(chosen) >= _MAX_SENTENCES:
                break
            if cand in chosen or cand.score < best.score * 0.7:
                continue
            adds_terms = bool(cand.covered - covered)
            adds_aspect = bool((cand.aspects & asked) - found)
            if not (adds_terms or adds_aspect):
                continue
            if sum(len(c.text) for c in chosen) + len(cand.text) > _MAX_ANSWER_CHARS:
                continue
            chosen.append(cand)
            covered |= cand.covered
            found |= cand.aspects
        # Read in document order within each passage, passages in rank order.
        chosen.sort(key=lambda c: (c.hit, hits[c.hit].passage.text.find(c.text)))
        return Draft(sentences=[Sentence(text=c.text, hit=c.hit) for c in chosen])

    def _question_weights(self, query: Query) -> dict[str, float]:
        """Question words and their weight; words from history or the glossary count less."""
        weights: dict[str, float] = {}
        for token in tokenize(add_year_aliases(normalize(query.question))):
            weights[token] = max(weights.get(token, 0.0), self.idf(token))
        for extra, factor in ((query.context, 0.5), (" ".join(query.expansions), 0.5)):
            for token in tokenize(normalize(extra)) if extra else []:
                if token not in weights:
                    weights[token] = self.idf(token) * factor
        return weights

    def _candidates(self, hits: list[Hit], weights: dict[str, float], asked: set[str]) -> list[_Candidate]:
        total = sum(weights.values()) or 1.0
        out: list[_Candidate] = []
        for i, hit in enumerate(hits[: self.passages_considered]):
            section_tokens = set(tokenize(normalize(hit.passage.section))) if hit.passage.section else set()
            for sentence in _sentences(hit.passage.text):
                tokens = set(tokenize(add_year_aliases(normalize(sentence))))
                covered = frozenset(t for t in weights if t in tokens or t in section_tokens)
                own = sum(weights[t] for t in weights if t in tokens)
                from_section = sum(weights[t] for t in covered if t not in tokens)
                coverage = (own + from_section) / total
                aspects = frozenset(name for name, (_, s_re) in ASPECTS.items() if s_re.search(nfkc(sentence)))
                score = (
                    (own + 0.8 * from_section) / total
                    + 0.25 * len(aspects & asked) / max(len(asked), 1)
                    + 0.15 / (1 + i)
                )
                out.append(_Candidate(sentence, i, coverage, score, covered, aspects))
        return out


def _sentences(text: str) -> list[str]:
    """Answerable pieces of a passage: its paragraphs split at sentence ends, fragments dropped."""
    pieces = []
    for paragraph in text.split("\n"):
        for sentence in split_sentences(paragraph) or [paragraph]:
            s = sentence.strip()
            if len(s) >= _MIN_SENTENCE_CHARS or re.search(r"\d", s) and len(s) >= 3:
                pieces.append(s)
    return pieces
