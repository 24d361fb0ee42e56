"""Calibrate the LLM answerer's support check (bot/answerers/verify.py): how much of a reference sentence its
evidence passage holds, against a passage of another document and another passage of the same one.

    python -m evals.calibrate_support [dataset [data dir]]
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from bot.answerers.verify import claims, evidence, numbers_found, support
from evals.metrics import overlaps_evidence
from retrieval.index import PASSAGES_FILE
from retrieval.types import Passage


def calibrate(dataset: str = "evals/datasets/seed_qa.jsonl", data_dir: str = ".advisor", seed: int = 7) -> dict:
    """Support scores of reference-answer sentences against their evidence passage (positives) and against
    a random passage of another document (negatives); prints the distribution and threshold figures."""
    rows = [json.loads(x) for x in (Path(data_dir) / PASSAGES_FILE).read_text(encoding="utf-8").splitlines() if x]
    # Passages only: small units (rows with a parent) are matched for their passage and never cited.
    passages = [Passage(**{k: r[k] for k in Passage.__dataclass_fields__ if k in r}) for r in rows if not r.get("parent")]
    rng = random.Random(seed)
    pos: list[tuple[float, bool]] = []
    neg: list[tuple[float, bool]] = []  # a passage of another document
    near: list[tuple[float, bool]] = []  # another passage of the same document (the likelier mistake)
    for line in Path(dataset).read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if not item.get("source"):
            continue
        gold = [p for p in passages if p.source == item["source"]
                and any(overlaps_evidence(p.text, ev) for ev in item["evidence"])]
        if not gold:
            continue
        others = [p for p in passages if p.source != item["source"]]
        same = [p for p in passages if p.source == item["source"] and p not in gold]
        union = "\n".join(evidence(p) for p in gold)  # a reference sentence may draw on two evidence passages
        for c in claims(item["answer"]):
            best = max(support(c.text, evidence(p)) for p in gold)
            pos.append((best, numbers_found(c.text, union)))
            for rows, pool in ((neg, others), (near, same)):
                if pool:
                    wrong = evidence(rng.choice(pool))
                    rows.append((support(c.text, wrong), numbers_found(c.text, wrong)))

    def share(rows, t, numbers=False):
        return sum(1 for s, ok in rows if s >= t and (ok or not numbers)) / max(len(rows), 1)

    def quantile(rows, q):
        xs = sorted(s for s, _ in rows)
        return xs[int(q * (len(xs) - 1))] if xs else 0.0

    table = {t: {name: [round(share(rows, t), 3), round(share(rows, t, True), 3)]
                 for name, rows in (("positives", pos), ("other_document", neg), ("same_document", near))}
             for t in (0.3, 0.4, 0.5, 0.6, 0.7)}
    summary = {name: {"n": len(rows), "p10": round(quantile(rows, 0.1), 3), "p25": round(quantile(rows, 0.25), 3),
                      "median": round(quantile(rows, 0.5), 3), "p90": round(quantile(rows, 0.9), 3),
                      "p99": round(quantile(rows, 0.99), 3),
                      "numbers_ok": round(sum(ok for _, ok in rows) / max(len(rows), 1), 3)}
               for name, rows in (("positives", pos), ("other_document", neg), ("same_document", near))}
    # accepted_at: threshold -> {kind: [share >= threshold, share >= threshold with every number found]}
    return {"support": summary, "accepted_at": table}


if __name__ == "__main__":
    argv = sys.argv[1:]  # [dataset [data dir]]
    report = calibrate(argv[0], argv[1]) if len(argv) >= 2 else calibrate(argv[0]) if argv else calibrate()
    json.dump(report, sys.stdout, indent=1)
    print()
