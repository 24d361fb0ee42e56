"""The JSON shape of an answer, defined once and reused by the CLI, eval records and (later) web and storage."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Self

from pydantic import BaseModel, Field, SkipValidation

from retrieval.types import Hit, Passage

# The citation marker in an answer's text: 「…2/3です。[1]」 refers to the citation numbered 1.
MARKER_RE = re.compile(r"\[(\d+)\]")


class PassageRef(BaseModel):
    source: str
    title: str
    section: str
    start_line: int
    end_line: int
    text: str

    @classmethod
    def of(cls, p: Passage, **extra) -> Self:
        return cls(source=p.source, title=p.title, section=p.section, start_line=p.start_line,
                   end_line=p.end_line, text=p.text, **extra)


class Citation(PassageRef):
    n: int


class RetrievedPassage(PassageRef):
    score: float


def hit_rows(hits: list[Hit]) -> list[dict]:
    """Search hits as `advisor search --json` prints them: the passage, its fused score and per-method ranks."""
    return [RetrievedPassage.of(h.passage, score=h.score).model_dump() | {"ranks": h.ranks} for h in hits]


class Answer(BaseModel):
    """What `advisor ask --json` prints: text with [n] markers, the cited passages, what was retrieved."""

    answer: str
    refused: bool
    citations: list[Citation] = Field(default_factory=list)
    retrieved: list[RetrievedPassage] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    # Set only when the LLM answer could not be used (provider down, nothing verified); absent otherwise.
    notice: str | None = Field(default=None, exclude_if=lambda v: v is None,
                               description="回答方式についての短いお知らせ (LLMが使えず資料の引用で答えた場合など)")
    # What travels with an answer inside the process and never in its public JSON (`exclude=True`):
    # the retrieved hits with their per-method ranks (eval reports), and the program finder's state
    # (profile, question asked, listed programs) that surfaces show as chips and the next turn reads.
    hits: SkipValidation[list[Hit]] = Field(default_factory=list, exclude=True, repr=False)
    finder: dict | None = Field(default=None, exclude=True, repr=False)


class SourceLine(BaseModel):
    n: int  # 1-based line number in the corpus file
    text: str
    cited: bool


class SourceExcerpt(BaseModel):
    """A cited range of a corpus file with the lines around it: what the web page's source viewer shows."""

    source: str
    title: str
    start_line: int
    end_line: int
    total_lines: int
    lines: list[SourceLine]


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer. `done` carries the final Answer."""

    type: Literal["status", "delta", "citation", "done"]
    text: str = ""
    citation: Citation | None = None
    answer: Answer | None = None
