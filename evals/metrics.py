"""Eval metrics: retrieval hits, facts in answers, citation quality, refusals, latency.

Matching uses retrieval.text, the same normalisation the product uses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher

from retrieval.text import fact_present, squash

MIN_RUN = 12


def overlaps_evidence(text: str, evidence: str) -> bool:
    """Evidence inside the text, or a shared contiguous run of >= half the evidence and >= 12 chars."""
    t, e = squash(text), squash(evidence)
    if not e:
        return False
    if e in t:
        return True
    need = max(MIN_RUN, math.ceil(len(e) / 2))
    if len(e) < need:
        return False
    m = SequenceMatcher(None, t, e, autojunk=False).find_longest_match(0, len(t), 0, len(e))
    return m.size >= need


def is_hit(passage: dict, source: str | None, evidence: Sequence[str]) -> bool:
    return bool(source) and passage.get("source") == source and any(
        overlaps_evidence(passage.get("text", ""), ev) for ev in evidence
    )


def first_hit_rank(retrieved: Sequence[dict], source: str | None, evidence: Sequence[str]) -> int | None:
    for rank, p in enumerate(retrieved, 1):
        if is_hit(p, source, evidence):
            return rank
    return None


def facts_found(answer: str, must_include: Sequence[str]) -> list[bool]:
    return [fact_present(f, answer) for f in must_include]


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _mean(xs: Iterable[float]) -> float | None:
    xs = list(xs)
    return round(sum(xs) / len(xs), 4) if xs else None


def summarize(records: Sequence[dict], k: int = 5) -> dict:
    """Metrics over a set of eval records (see runner.score_record for the fields)."""
    answerable = [r for r in records if r["source"]]
    unanswerable = [r for r in records if not r["source"]]
    ranks = [r["hit_rank"] for r in answerable]
    with_facts = [r for r in answerable if r["must_include"]]
    cited = [c for r in answerable for c in r["citation_hits"]]
    latencies = [r["latency_ms"] for r in records]
    return {
        "items": len(records),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "recall@1": _mean(1.0 if x is not None and x <= 1 else 0.0 for x in ranks),
        f"recall@{k}": _mean(1.0 if x is not None and x <= k else 0.0 for x in ranks),
        "recall@10": _mean(1.0 if x is not None and x <= 10 else 0.0 for x in ranks),
        "mrr@10": _mean(1.0 / x if x is not None and x <= 10 else 0.0 for x in ranks),
        "facts_found": _mean(sum(r["facts"]) / len(r["facts"]) for r in with_facts),
        "all_facts": _mean(1.0 if all(r["facts"]) else 0.0 for r in with_facts),
        "citation_precision": _mean(1.0 if c else 0.0 for c in cited),
        "cited_hit": _mean(1.0 if any(r["citation_hits"]) else 0.0 for r in answerable),
        "refusal_accuracy": _mean(1.0 if r["refused"] else 0.0 for r in unanswerable),
        "false_refusal": _mean(1.0 if r["refused"] else 0.0 for r in answerable),
        "latency_p50_ms": round(percentile(latencies, 0.5), 2),
        "latency_p95_ms": round(percentile(latencies, 0.95), 2),
    }


def breakdown(records: Sequence[dict], key: str, k: int = 5) -> dict[str, dict]:
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(str(r.get(key) or "none"), []).append(r)
    return {name: summarize(rs, k) for name, rs in sorted(groups.items())}
