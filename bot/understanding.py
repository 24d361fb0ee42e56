"""Question understanding, once per turn: the question (+ history) read into one typed structure.

Every later step (the router, the catalogue table, the finder, passage retrieval and the answerers) takes
what is read here instead of normalising and matching the question again with its own patterns. The
vocabulary stays in the owners' data and modules (glossary, catalogue, finder words); this step only
calls them in one place and keeps their verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.answerers.extractive import asked_aspects, question_parts
from retrieval.glossary import program_names
from retrieval.search import Query, Retriever
from retrieval.text import nfkc, tokenize

if TYPE_CHECKING:
    from bot.catalogue_answers import CatalogueAnswers, Request

Intent = Literal["comparison", "list", "find", "finder_reply", "out_of_scope", "fact"]


@dataclass(frozen=True)
class Understanding:
    """What a question asks, read once. `intent` is the first thing it asks for; the flags beside it say
    what else could take it, so the router can fall back (a catalogue list with too few rows)."""

    question: str
    history: tuple[dict, ...]
    text: str  # NFKC: what matching sees (citations keep the documents' own text)
    tokens: tuple[str, ...]
    programs: tuple[str, ...]  # program names the question writes out (「…補助金」「…事業」)
    aspects: frozenset[str]  # kinds of fact asked: amount, rate, date, count, who, whether …
    parts: tuple[str, ...]  # the separate things a multi-part question asks
    followup: bool  # leans on earlier turns (「その補助率は？」)
    query: Query  # what retrieval searches: the question, its context from history, glossary words
    catalogue: Request | None  # a comparison or list the catalogue's cited table can answer
    needs_passages: bool  # ...asking more than the catalogue's fields, so passages follow the table
    finder: bool  # a situation asking which programs fit, or a reply to the finder's question
    finder_reply: bool  # ...the finder spoke last and waits for this answer or correction
    in_scope: bool  # the documents could speak to it at all (their words, programs they mention)
    unknown: tuple[str, ...] = ()  # what it names that no document mentions (a program, a quoted term, a town)

    @property
    def intent(self) -> Intent:
        if self.catalogue is not None:
            return "comparison" if self.catalogue.kind == "comparison" else "list"
        if self.finder:
            return "finder_reply" if self.finder_reply else "find"
        return "fact" if self.in_scope else "out_of_scope"


class Understander:
    """Built once per engine from the parts that own the vocabulary; `read` is called once per turn."""

    def __init__(self, retriever: Retriever, catalogue: CatalogueAnswers | None = None,
                 wants_finder: Callable[[str, Sequence[dict]], bool] | None = None) -> None:
        self.retriever = retriever
        self.catalogue = catalogue
        self.wants_finder = wants_finder

    def read(self, question: str, history: Sequence[dict] | None = None,
             rewrite: Callable[[str, Sequence[dict]], str | None] | None = None) -> Understanding:
        """`rewrite` (a generative answerer's) turns a follow-up into a standalone question for retrieval."""
        from bot.turns import finder_awaits_reply

        turns = tuple(history or ())
        retriever = self.retriever
        followup = bool(turns) and retriever.is_followup(question)
        query = retriever.build_query(question, turns)
        if rewrite is not None and followup:
            standalone = rewrite(question, turns)
            if standalone:
                query = retriever.build_query(standalone, turns)
        request = self.catalogue.parse(question, turns) if self.catalogue is not None else None
        finder = bool(self.wants_finder and self.wants_finder(question, turns))
        text = nfkc(question)
        unknown = tuple(retriever.unknown_names(question))
        return Understanding(
            question=question, history=turns, text=text, tokens=tuple(tokenize(text)),
            programs=tuple(program_names(text)), aspects=frozenset(asked_aspects(question)),
            parts=tuple(question_parts(question)), followup=followup, query=query, catalogue=request,
            needs_passages=request is not None and self.catalogue is not None
            and self.catalogue.needs_passages(question),
            finder=finder, finder_reply=finder and finder_awaits_reply(turns),
            in_scope=retriever.in_scope(query, unknown), unknown=unknown)
