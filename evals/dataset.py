"""The eval dataset format (JSON Lines) and its validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from retrieval.text import squash

ItemType = Literal["fact", "numeric", "list", "definition", "comparison", "multi_hop", "followup",
                   "unanswerable", "paraphrase"]


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class EvalItem(BaseModel):
    id: str
    question: str
    persona: Literal["advisor", "sme"]
    history: list[Turn] = Field(default_factory=list)
    answer: str
    must_include: list[str] = Field(default_factory=list)
    source: str | None
    evidence: list[str] = Field(default_factory=list)
    type: ItemType
    difficulty: Literal["easy", "medium", "hard"]
    # "tune": rules may be fitted by looking at its failures; "heldout": written by someone who never saw the
    # answering code, read only in aggregate. Items written before the split are all "tune".
    split: Literal["tune", "heldout"] = "tune"

    @field_validator("question")
    @classmethod
    def _not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("empty question")
        return v

    @property
    def answerable(self) -> bool:
        return self.source is not None


class DatasetError(ValueError):
    pass


def load_dataset(path: Path, corpus_dir: Path | None = None) -> list[EvalItem]:
    """Read and validate a dataset; with corpus_dir, also check each evidence string stands in its source."""
    items: list[EvalItem] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = EvalItem.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{n}: not JSON ({exc})")
            continue
        except ValidationError as exc:
            fields = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'item'}: {e['msg']}" for e in exc.errors())
            problems.append(f"{path}:{n}: {fields}")
            continue
        if item.id in seen:
            problems.append(f"{path}:{n}: duplicate id {item.id}")
        seen.add(item.id)
        if item.answerable and not item.evidence:
            problems.append(f"{path}:{n}: {item.id} has a source but no evidence")
        if not item.answerable and (item.evidence or item.must_include):
            problems.append(f"{path}:{n}: {item.id} is unanswerable but has evidence or must_include")
        if corpus_dir is not None and item.source:
            source = Path(corpus_dir) / item.source
            if not source.exists():
                problems.append(f"{path}:{n}: {item.id}: source {item.source} not in {corpus_dir}")
            else:
                text = squash(source.read_text(encoding="utf-8"))
                for ev in item.evidence:
                    if squash(ev) not in text:  # as the metrics match it: NFKC, line breaks and spaces ignored
                        problems.append(f"{path}:{n}: {item.id}: evidence not found in {item.source}: {ev[:30]!r}")
        items.append(item)
    if problems:
        raise DatasetError("\n".join(problems[:50]))
    return items
