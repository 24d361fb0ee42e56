"""The few types that flow through retrieval: Document -> Passage -> Hit."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """A corpus file as lines of text; line i (1-based) is lines[i-1], exactly as a reader sees it."""

    source: str  # file name relative to the corpus directory
    title: str
    lines: tuple[str, ...]
    content_hash: str


@dataclass(frozen=True)
class Passage:
    """A citable piece of a document: its original text and where it stands."""

    id: str  # stable: source + line range + content hash
    source: str
    title: str
    section: str
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive
    text: str  # as in the file (PDF line breaks inside sentences joined)
    norm: str  # normalised text used for matching (section included)
    parent: str = ""  # a small unit (one line, row or item): the id of the passage it stands in

    def to_dict(self) -> dict:
        row = {
            "id": self.id, "source": self.source, "title": self.title, "section": self.section,
            "start_line": self.start_line, "end_line": self.end_line, "text": self.text, "norm": self.norm,
        }
        if self.parent:
            row["parent"] = self.parent
        return row


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its fused score and the rank each method gave it (None: not found)."""

    passage: Passage
    score: float
    ranks: dict[str, int | None] = field(default_factory=dict)
    similarity: float = 0.0  # dense cosine similarity, used for the "nothing relevant" cut
    unit_similarity: float = 0.0  # the same for the passage's best small unit (0.0: none matched)
    unit: Passage | None = None  # the small unit inside the passage that matched best, if one did
