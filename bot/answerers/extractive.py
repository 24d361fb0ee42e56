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

# What a question asks for (question pattern), and how a sentence that gives it looks (sentence pattern).
# A question that asks for one of these is answered only by sentences that hold it: a question about a
# deadline is refused when no retrieved sentence states a date, however well the program name matches.
ASPECTS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "deadline": (
        re.compile(r"締切|締め切り|〆切|申請期限|応募期限|いつまでに|deadline", re.I),
        re.compile(r"\d+\s*月\s*\d+\s*日|\d+/\d+\s*[(（]|まで"),
    ),
    "documents": (
        re.compile(r"書類|提出物|必要なもの|documents", re.I),
        re.compile(r"書類|提出|添付"),
    ),
    "acceptance": (
        re.compile(r"採択率|倍率|acceptance rate", re.I),
        re.compile(r"採択率|倍率|\d+(\.\d+)?\s*[%％]"),
    ),
    "interest": (
        re.compile(r"金利|利率|利子|interest", re.I),
        re.compile(r"金利|利率|利子|\d+(\.\d+)?\s*[%％]"),
    ),
    "amount": (
        re.compile(r"上限|金額|いくら|予算|[^\s]額|how much|budget|amount|\bcap\b|maximum|yen", re.I),
        re.compile(r"\d[\d,.]*\s*(兆|億|万|千|百万)?\s*円"),
    ),
    "rate": (
        re.compile(r"補助率|助成率|割合|何割|何分の|rate|ratio|percent", re.I),
        re.compile(r"\d+\s*/\s*\d+|\d+\s*分の\s*\d+|\d+(\.\d+)?\s*[%％]|[0-9一二三四五六七八九十]割|定額"),
    ),
    "count": (
        re.compile(r"件数|何件|何社|何人|何名|何校|何者|何か所|何カ所|者数|社数|how many|number of", re.I),
        re.compile(r"\d[\d,]*\s*(件|社|者|人|名|カ所|ヶ所|か所|校|団体|拠点|機関)"),
    ),
    "period": (
        re.compile(r"期間|いつから|いつまで|何年間|何年|いつ|how long|when|period|duration", re.I),
        re.compile(r"\d+\s*(年度|年間|年|か月|ヶ月|カ月|月)|令和|平成|元年"),
    ),
}
_MIN_SENTENCE_CHARS = 6
_MAX_ANSWER_CHARS = 420
_MAX_SENTENCES = 4
_MIN_GAIN = 0.12


@dataclass(frozen=True)
class _Candidate:
    text: str
    hit: int
    coverage: float  # share of the question's weight this sentence (with its section) covers
    score: float
    covered: frozenset[str]
    aspects: frozenset[str]


class ExtractiveAnswerer:
    def __init__(self, idf: Callable[[str], float], min_coverage: float = 0.3, passages_considered: int = 6):
        self.idf = idf
        self.min_coverage = min_coverage
        self.passages_considered = passages_considered

    def answer(self, query: Query, hits: list[Hit]) -> Draft:
        weights, extra = self._question_weights(query)
        asked = asked_aspects(query.question)
        candidates = self._candidates(hits, weights, extra, asked)
        if not candidates:
            return Draft(refused=True, reason="no candidate sentence")
        best = max(candidates, key=lambda c: c.score)
        if best.coverage < self.min_coverage:
            return Draft(refused=True, reason=f"coverage {best.coverage:.2f} < {self.min_coverage}")
        strict = asked - {"period"}
        if strict and not any(strict & c.aspects for c in candidates if c.coverage >= self.min_coverage):
            return Draft(refused=True, reason=f"no sentence states the {'/'.join(sorted(strict))} asked for")
        chosen = [best]
        total = sum(weights.values()) or 1.0
        while len(chosen) < _MAX_SENTENCES:
            covered = set().union(*(c.covered for c in chosen))
            found = set().union(*(c.aspects for c in chosen)) & asked
            used = sum(len(c.text) for c in chosen)
            hits_used = {c.hit for c in chosen}

            def gain(c: _Candidate) -> float:
                g = sum(weights.get(t, 0.0) for t in c.covered - covered) / total
                g += 0.3 * len((c.aspects & asked) - found) / max(len(asked), 1)
                return g + (0.05 if c.hit in hits_used else 0.0)

            options = [c for c in candidates if c not in chosen and c.coverage >= self.min_coverage
                       and used + len(c.text) <= _MAX_ANSWER_CHARS]
            if not options:
                break
            pick = max(options, key=lambda c: (gain(c), c.score))
            if gain(pick) < _MIN_GAIN:
                break
            chosen.append(pick)
        # Read in document order within each passage, passages in rank order.
        chosen.sort(key=lambda c: (c.hit, hits[c.hit].passage.text.find(c.text)))
        return Draft(sentences=[Sentence(text=c.text, hit=c.hit) for c in chosen])

    def _question_weights(self, query: Query) -> tuple[dict[str, float], dict[str, float]]:
        """Question words with their weight, and glossary/history words that may stand in for them."""
        weights: dict[str, float] = {}
        for token in tokenize(add_year_aliases(normalize(query.question))):
            weights[token] = max(weights.get(token, 0.0), self.idf(token))
        if query.context:
            for token in tokenize(normalize(query.context)):
                weights.setdefault(token, self.idf(token) * 0.5)
        extra: dict[str, float] = {}
        for token in tokenize(normalize(" ".join(query.expansions))):
            if token not in weights:
                extra[token] = self.idf(token) * 0.5
        return weights, extra

    def _candidates(self, hits: list[Hit], weights: dict[str, float], extra: dict[str, float],
                    asked: set[str]) -> list[_Candidate]:
        total = sum(weights.values()) or 1.0
        out: list[_Candidate] = []
        for i, hit in enumerate(hits[: self.passages_considered]):
            section_tokens = set(tokenize(normalize(hit.passage.section))) if hit.passage.section else set()
            for sentence in _sentences(hit.passage.text):
                tokens = set(tokenize(add_year_aliases(normalize(sentence))))
                covered = frozenset(t for t in weights if t in tokens or t in section_tokens)
                own = sum(weights[t] for t in weights if t in tokens)
                from_section = sum(weights[t] for t in covered if t not in tokens)
                missing = total - own - from_section
                stand_in = min(missing, sum(w for t, w in extra.items() if t in tokens or t in section_tokens))
                coverage = (own + from_section + stand_in) / total
                aspects = frozenset(name for name, (_, s_re) in ASPECTS.items() if s_re.search(nfkc(sentence)))
                score = (
                    (own + 0.8 * from_section + stand_in) / total
                    + 0.25 * len(aspects & asked) / max(len(asked), 1)
                    + 0.15 / (1 + i)
                )
                out.append(_Candidate(sentence, i, coverage, score, covered, aspects))
        return out


def asked_aspects(question: str) -> set[str]:
    q = nfkc(question)
    return {name for name, (q_re, _) in ASPECTS.items() if q_re.search(q)}


def _sentences(text: str) -> list[str]:
    """Answerable pieces of a passage: its paragraphs split at sentence ends, fragments dropped."""
    pieces = []
    for paragraph in text.split("\n"):
        for sentence in split_sentences(paragraph) or [paragraph]:
            s = sentence.strip()
            if len(s) >= _MIN_SENTENCE_CHARS or re.search(r"\d", s) and len(s) >= 3:
                pieces.append(s)
    return pieces
