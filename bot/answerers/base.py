"""The seam between retrieval and answering: an Answerer turns a question and hits into cited sentences."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from retrieval.search import Query
from retrieval.types import Hit


@dataclass(frozen=True)
class Sentence:
    """One answer sentence and the index (into hits) of the passage that says it."""

    text: str
    hit: int
    label: str = ""  # the program the sentence is about, shown before it when the question asks "which program?"


@dataclass(frozen=True)
class Draft:
    """An answer before numbering: sentences tied to hits, or a refusal with its reason."""

    sentences: list[Sentence] = field(default_factory=list)
    refused: bool = False
    reason: str = ""


class Answerer(Protocol):
    def answer(self, query: Query, hits: list[Hit]) -> Draft: ...
