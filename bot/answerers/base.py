"""The seam between retrieval and answering: an Answerer turns a question and hits into cited sentences."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeGuard

from retrieval.search import Query
from retrieval.types import Hit

Persona = Literal["sme", "advisor"]


@dataclass(frozen=True)
class LLMDefaults:
    """The LLM answerer's defaults, written once: its constructor and Settings (ADVISOR_LLM_*) both read them
    (here, not in bot/answerers/llm.py, so that reading settings does not import LangChain)."""

    passages: int = 6  # top passages put in the prompt
    persona: Persona = "sme"  # default reader: "sme" (plain words) or "advisor" (precise)
    rewrite_followups: bool = True  # a follow-up and its history become a standalone query
    refusal_gate: bool = True  # the extractive answerer's calibrated refusal also holds for LLM answers


LLM_DEFAULTS = LLMDefaults()


@dataclass(frozen=True)
class Sentence:
    """One answer sentence and the index (into hits) of the passage that says it."""

    text: str
    hit: int
    label: str = ""  # the program the sentence is about, shown before it when the question asks "which program?"
    also: tuple[int, ...] = ()  # further hits the sentence draws on (a generated sentence may cite two passages)


@dataclass(frozen=True)
class Draft:
    """An answer before numbering: sentences tied to hits, or a refusal with its reason."""

    sentences: list[Sentence] = field(default_factory=list)
    refused: bool = False
    reason: str = ""
    notice: str = ""  # shown with the answer, e.g. "the LLM was unavailable; quoted passages instead"


class Answerer(Protocol):
    def answer(self, query: Query, hits: list[Hit]) -> Draft: ...


class GenerativeAnswerer(Answerer, Protocol):
    """An answerer that writes (bot/answerers/llm.py): it also takes the reader's persona, can rewrite a
    follow-up into a standalone question before retrieval, and can stream: `stream` yields each verified
    Sentence as it is finished, then the final Draft (authoritative: it may differ after a failure)."""

    def answer(self, query: Query, hits: list[Hit], persona: str | None = None) -> Draft: ...

    def stream(self, query: Query, hits: list[Hit], persona: str | None = None) -> Iterator[Sentence | Draft]: ...

    def rewrite(self, question: str, history: Sequence[dict]) -> str | None: ...


def is_generative(answerer: Answerer) -> TypeGuard[GenerativeAnswerer]:
    """Does this answerer write (persona, rewrite, stream), or only choose sentences?"""
    return callable(getattr(answerer, "stream", None))
