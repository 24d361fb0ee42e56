"""How much of a question a text says: the question's words weighed by rarity, glossary words standing in.

Both the search (re-ranking its fused top) and the extractive answerer (choosing sentences) ask this of a
text; they share one notion of "the question's words", so a passage the search lifts is one whose sentences
the answerer can quote.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from retrieval.text import tokenize


def is_latin(text: str) -> bool:
    """Mostly ASCII: an English question, matched through the glossary's Japanese words."""
    return sum(ch.isascii() for ch in text) > 0.7 * len(text)


@dataclass(frozen=True)
class QuestionWeights:
    """The question's own words (and its conversation's, at half weight) with their weight, and the glossary
    words that may stand in for words the documents do not use (パソコン -> ITツール)."""

    own: dict[str, float] = field(default_factory=dict)
    stand_in: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.own.values())

    def coverage(self, tokens: Collection[str]) -> float:
        """Share of the question's weight the tokens say; stand-in words fill at most what the own words miss."""
        total = self.total or 1.0
        own = sum(w for t, w in self.own.items() if t in tokens)
        stand_in = sum(w for t, w in self.stand_in.items() if t in tokens)
        return (own + min(total - own, stand_in)) / total


def question_weights(question: str, context: str, expansions: Iterable[str], idf: Callable[[str], float],
                     known: Callable[[str], bool], stand_in: float = 1.0,
                     boosted: Collection[str] = (), boost: float = 1.0) -> QuestionWeights:
    """Words no document uses cannot be matched, so they are left out of the weight; an English question is
    weighed by its glossary translations, at full weight. `boosted` words (those naming the fact asked for)
    weigh `boost` times more."""
    own: dict[str, float] = {}
    for token in tokenize(question):
        if known(token):
            own[token] = max(own.get(token, 0.0), idf(token))
    for token in boosted:
        if token in own:
            own[token] *= boost
    if context:
        for token in tokenize(context):
            if known(token):
                own.setdefault(token, idf(token) * 0.5)
    latin = is_latin(question)
    extra: dict[str, float] = {}
    for token in tokenize(" ".join(expansions)):
        if token not in own and known(token):
            if latin:
                own[token] = idf(token)
            else:
                extra[token] = idf(token) * stand_in
    return QuestionWeights(own, extra)
