"""Finder evaluation: SME situations with the programs a good advisor would name (evals/datasets/finder.jsonl).

Each situation runs as a conversation: when the finder asks, the simulated user answers 「わからない」
(the dataset cannot know more than the situation says), up to the finder's own limit of questions.
Metrics: expected program in the top 3, precision of the list, questions asked per situation (and whether
they came where the dataset says one is needed), no-fit accuracy, and the share of reasons whose
citations hold the text they quote.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from bot.finder.render import to_answer
from bot.turns import assistant_turn, user_turn
from retrieval.text import squash

FACETS = {"industry", "employees", "capital_yen", "size", "region", "goals", "circumstances"}


class FinderEvidence(BaseModel):
    program: str
    source: str
    quote: str


class FinderItem(BaseModel):
    id: str
    situation: str
    persona: Literal["sme", "advisor"] = "sme"
    expected: list[str]
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    evidence: list[FinderEvidence] = Field(default_factory=list)
    needs_question: bool = False
    decisive: str | None = None
    no_fit: bool = False
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    notes: str = ""
    # "tune": the finder's rules may be fitted on its failures; "heldout": written apart, read in aggregate
    split: Literal["tune", "heldout"] = "tune"


class FinderDatasetError(ValueError):
    pass


def is_finder_dataset(path: Path) -> bool:
    """Does the file hold finder items (a `situation` field) rather than Q&A items?"""
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                try:
                    return "situation" in json.loads(line)
                except json.JSONDecodeError:
                    return False
    return False


def load_finder_dataset(path: Path, corpus_dir: Path | None = None) -> list[FinderItem]:
    """Read and validate; with corpus_dir, every evidence quote must stand in its source file."""
    items, problems = [], []
    texts: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = FinderItem.model_validate_json(line)
        except ValidationError as exc:
            problems.append(f"line {n}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
            continue
        if item.no_fit != (not item.expected):
            problems.append(f"{item.id}: no_fit must be true exactly when expected is empty")
        if item.decisive is not None and item.decisive not in FACETS:
            problems.append(f"{item.id}: decisive {item.decisive!r} is not one of {sorted(FACETS)}")
        if corpus_dir is not None:
            for ev in item.evidence:
                if ev.source not in texts:
                    f = corpus_dir / ev.source
                    texts[ev.source] = f.read_text(encoding="utf-8") if f.exists() else ""
                if ev.quote not in texts[ev.source]:
                    problems.append(f"{item.id}: evidence not in {ev.source}: {ev.quote[:40]}")
        items.append(item)
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        problems.append("ids are not unique")
    if problems:
        raise FinderDatasetError(f"{path.name}: " + "; ".join(problems[:10]))
    return items


def same_program(name: str, expected: str, aliases: Sequence[str] = ()) -> bool:
    """Names match after NFKC and white space removal, either containing the other (「…事業（Go-Tech事業）」)."""
    got = squash(name)
    for want in (expected, *aliases):
        w = squash(want)
        if w and (w == got or (len(w) >= 6 and (w in got or got in w))):
            return True
    return False


def run_item(finder, item: FinderItem, max_turns: int = 4) -> dict:
    history: list[dict] = []
    message, questions, fields = item.situation, 0, []
    t0 = time.perf_counter()
    for _ in range(max_turns):
        result = finder.find(message, history=history)
        if result.question is None:
            break
        questions += 1
        fields.append(result.question_field)
        history += [user_turn(message), assistant_turn(to_answer(result))]
        message = "わからない"
    latency = (time.perf_counter() - t0) * 1000
    listed = [p.name for p in result.programs]
    hits = [any(same_program(n, e, item.aliases.get(e, [])) for e in item.expected) for n in listed]
    top3 = any(hits[:3]) if item.expected else not listed
    support = [_reason_supported(r) for p in result.programs for r in p.reasons]
    return {
        "id": item.id, "split": item.split, "situation": item.situation, "expected": item.expected,
        "no_fit": item.no_fit,
        "needs_question": item.needs_question, "decisive": item.decisive,
        "profile": result.profile, "questions": questions, "question_fields": fields,
        "programs": [p.model_dump() for p in result.programs], "listed": listed,
        "top3": top3, "precision": (sum(hits) / len(hits)) if hits else (1.0 if item.no_fit else 0.0),
        "reasons_supported": support, "latency_ms": round(latency, 2), "notice": result.notice,
    }


def _reason_supported(reason) -> bool:
    """The text a reason quotes (inside 「」) stands in the lines its citations give."""
    quoted = re.findall(r"「([^」]+)」", reason.text)
    value = (quoted[-1] if quoted else reason.text).strip("…")
    lines = squash(" ".join(c.text for c in reason.citations))
    return bool(reason.citations) and squash(value) in lines


def finder_metrics(records: Sequence[dict]) -> dict:
    def mean(xs):
        xs = list(xs)
        return round(sum(xs) / len(xs), 3) if xs else None

    fit = [r for r in records if not r["no_fit"]]
    needs = [r for r in records if r["needs_question"]]
    clear = [r for r in records if not r["needs_question"]]
    support = [s for r in records for s in r["reasons_supported"]]
    return {
        "items": len(records),
        "top3": mean(r["top3"] for r in fit),
        "precision": mean(r["precision"] for r in records),
        "no_fit_accuracy": mean(r["top3"] for r in records if r["no_fit"]),
        "questions_per_situation": mean(r["questions"] for r in records),
        "asked_when_needed": mean(r["questions"] > 0 for r in needs),
        "asked_when_not_needed": mean(r["questions"] > 0 for r in clear),
        "reason_support": mean(support),
        "latency_p50_ms": round(statistics.median(r["latency_ms"] for r in records), 2) if records else None,
        # situations where the language model was asked and could not help (the rules chose alone)
        "llm_failed": mean(bool(r.get("notice")) for r in records),
    }


def run(finder, items: Sequence[FinderItem]) -> dict:
    records = [run_item(finder, item) for item in items]
    splits = sorted({r.get("split", "tune") for r in records})
    by_split = {name: finder_metrics([r for r in records if r.get("split", "tune") == name]) for name in splits}
    # Q&A items keep the `items` key (and the shape other tools read); finder records get their own.
    return {"metrics": {"finder": finder_metrics(records), "finder_by_split": by_split}, "items": [],
            "finder_items": records}
