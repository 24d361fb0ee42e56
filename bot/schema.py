"""The JSON shape of an answer, defined once and reused by the CLI, eval records and (later) web and storage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Self

from pydantic import BaseModel, Field, PrivateAttr

from retrieval.types import Hit, Passage


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
    _hits: list[Hit] = PrivateAttr(default_factory=list)
    # The program finder's structured result (profile, question, listed programs) for surfaces that show
    # the profile as editable chips; None for ordinary answers. Kept out of the fixed `ask --json` shape.
    _finder: dict | None = PrivateAttr(default=None)

    @property
    def finder_state(self) -> dict | None:
        return self._finder

    @property
    def hits(self) -> list[Hit]:
        """The retrieved hits with their per-method ranks (for eval reports; not part of the JSON)."""
        return self._hits


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
