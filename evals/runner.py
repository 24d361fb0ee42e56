"""Run a dataset through the same Advisor users meet, and score each answer."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from evals.dataset import EvalItem
from evals.metrics import breakdown, facts_found, first_hit_rank, is_hit, summarize


def run_item(advisor, item: EvalItem, k: int = 5) -> dict:
    """One record: the answer in `advisor ask --json` shape plus the item and its scores."""
    history = [t.model_dump() for t in item.history]
    t0 = time.perf_counter()
    answer = advisor.ask(item.question, history=history, persona=item.persona)
    latency = (time.perf_counter() - t0) * 1000
    data = answer.model_dump()
    data["retrieved"] = data["retrieved"][:10]
    return score_record({
        "id": item.id, "question": item.question, "history": history, "persona": item.persona,
        "type": item.type, "difficulty": item.difficulty, "source": item.source, "split": item.split,
        "expected": item.answer, "must_include": item.must_include, "evidence": item.evidence,
        **data, "latency_ms": round(latency, 2),
        "ranks": [h.ranks for h in answer.hits[:10]],
    })


def score_record(record: dict) -> dict:
    source, evidence = record["source"], record["evidence"]
    record["hit_rank"] = first_hit_rank(record["retrieved"], source, evidence) if source else None
    record["facts"] = facts_found(record["answer"], record["must_include"]) if not record["refused"] else [
        False] * len(record["must_include"])
    record["citation_hits"] = [is_hit(c, source, evidence) for c in record["citations"]] if source else []
    return record


def run(advisor, items: Sequence[EvalItem], k: int = 5,
        progress: Callable[[int, int], None] | None = None) -> dict:
    records = []
    for i, item in enumerate(items, 1):
        records.append(run_item(advisor, item, k))
        if progress:
            progress(i, len(items))
    return {"metrics": metrics_of(records, k), "items": records}


def metrics_of(records: Sequence[dict], k: int = 5) -> dict:
    overall = summarize(records, k)
    if any("notice" in r for r in records):  # LLM runs: answers that fell back to the extractive answerer
        overall["notice_rate"] = round(sum(1 for r in records if r.get("notice")) / max(len(records), 1), 4)
    return {
        "overall": overall,
        "by_split": breakdown(records, "split", k),
        "by_type": breakdown(records, "type", k),
        "by_persona": breakdown(records, "persona", k),
        "by_source": breakdown(records, "source", k),
        "k": k,
    }
