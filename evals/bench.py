"""Benchmarks (`make bench`): index build time, warm search/ask latency, and recall@5 per search mode.

Speed targets live here, not in unit tests: ask p50 <= 50 ms and p95 <= 150 ms on the 2-core machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.engine import Advisor
from evals.dataset import load_dataset
from evals.metrics import first_hit_rank, percentile

TARGETS = {"ask_p50_ms": 50.0, "ask_p95_ms": 150.0}


def _timed(fn, *args, **kwargs) -> float:
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="evals/datasets/seed_qa.jsonl")
    parser.add_argument("--skip-build", action="store_true", help="Use the existing index instead of timing a build.")
    parser.add_argument("--skip-load", action="store_true", help="No load run against a live web server.")
    parser.add_argument("--workers", type=int, default=2, help="Web server worker processes for the load run.")
    parser.add_argument("--warm-dataset", default="evals/datasets/seed_dev.jsonl",
                        help="Questions the server answers before the load run (its passage caches warm, as a "
                             "server's are after a while), none of them asked in the run.")
    parser.add_argument("--realdocs", type=Path, default=Path("../shared/realdocs"),
                        help="Real 公募要領 (PDF) added to the seeds for a second index build timing.")
    args = parser.parse_args()
    settings = Settings()
    items = load_dataset(Path(args.dataset))
    questions = [(i.question, [t.model_dump() for t in i.history]) for i in items]

    if not args.skip_build:
        _build(settings, settings.corpus_dir, "seeds")
        if args.realdocs.is_dir():
            from evals.realdocs import prepare

            with tempfile.TemporaryDirectory() as tmp:
                prepare(settings.corpus_dir, args.realdocs, Path(tmp))
                _build(settings, Path(tmp) / "corpus", f"seeds + {args.realdocs}")
        else:
            print(f"index build of seeds + real 公募要領: skipped ({args.realdocs} not found)")

    advisor = Advisor(settings)
    advisor.warm_up()
    search_ms = [_timed(advisor.search, q, 10, h) for q, h in questions]
    ask_ms = [_timed(advisor.ask, q, h) for q, h in questions]
    figures = {
        "search_p50_ms": statistics.median(search_ms), "search_p95_ms": percentile(search_ms, 0.95),
        "ask_p50_ms": statistics.median(ask_ms), "ask_p95_ms": percentile(ask_ms, 0.95),
    }
    print(f"latency over {len(questions)} questions (warm process):")
    for key, value in figures.items():
        target = TARGETS.get(key)
        verdict = "" if target is None else f"  (target <= {target:.0f}: {'ok' if value <= target else 'MISSED'})"
        print(f"  {key:>14}: {value:7.1f}{verdict}")

    answerable = [i for i in items if i.source]
    retriever = advisor.retriever
    base = retriever.config
    print(f"retrieval recall@5 / MRR@10 on {len(answerable)} answerable questions:")
    variants: dict[str, dict[str, Any]] = {"keyword": {"mode": "keyword"}, "dense": {"mode": "dense"},
                "hybrid-rrf": {"mode": "hybrid", "fusion": "rrf"}, "hybrid": {"mode": "hybrid", "fusion": "convex"}}
    for name, change in variants.items():
        retriever.config = dataclasses.replace(base, **change)
        ranks = [first_hit_rank([h.passage.to_dict() for h in advisor.search(i.question, 10, [t.model_dump() for t in i.history])],
                                i.source, i.evidence) for i in answerable]
        recall = sum(1 for r in ranks if r and r <= 5) / len(ranks)
        mrr = sum(1 / r for r in ranks if r) / len(ranks)
        print(f"  {name:>10}: recall@5 {recall:.3f}  MRR@10 {mrr:.3f}")
    retriever.config = base

    if not args.skip_load:
        warm = [i.question for i in load_dataset(Path(args.warm_dataset)) if not i.history]
        _load(questions, warm, args.workers)


def _build(settings: Settings, corpus: Path, label: str) -> None:
    """Time a fresh index build of `corpus`: what one embedded passage or small unit costs on this machine."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Advisor(settings.model_copy(update={"data_dir": Path(tmp), "chroma_host": None}))
        t0 = time.perf_counter()
        report = fresh.make_index().build(corpus, progress=False)
        build_s = time.perf_counter() - t0
    keys = report.passages + report.units
    print(f"index build ({label}): {build_s:.1f} s for {report.passages} passages + {report.units} small units "
          f"({report.passages / build_s:.1f} passages/s, {keys / build_s:.1f} embedded keys/s, "
          f"embedder {fresh.make_index().embedder.name})")


def _load(questions: list[tuple[str, list]], warm: list[str], workers: int) -> None:
    """POST /api/chat at 1, 8 and 32 clients: first with every question new to the server, then repeated.

    Beside each figure: the server's CPU per request against the engine's own cost in process, and the bound
    the query embedder sets (a new question cannot cost less than embedding it)."""
    import os

    from evals.loadbench import TARGET, Server, engine_cost, report, run_load

    asked = [q for q, h in questions if not h]
    cores = os.cpu_count() or 1
    cost = engine_cost(asked, warm, threads=max(1, cores // workers))
    print(f"engine in process (one embedder thread, query cache off, warmed on {len(warm)} other questions): "
          f"ask {cost.ask_cpu_ms:.1f} ms CPU per new question, of which embedding the query "
          f"{cost.embed_cpu_ms:.1f} ms")
    print(f"  bound: {cores} cores / {cost.embed_cpu_ms:.1f} ms = at most {cost.max_rps(cores):.1f} new questions/s "
          f"even if answering cost nothing beyond the embedding (target {TARGET['rps']:.0f})")
    with Server(workers=workers, env={"ADVISOR_QUERY_CACHE_SIZE": "0"}) as server:
        run_load(server.url, warm, levels=(workers * 2,), rounds=1, max_requests=len(warm))  # warm caches
        report(run_load(server.url, asked, cpu=server.cpu_seconds),
               f"load, {workers} workers, query cache off (every question new):", cost.ask_cpu_ms)
    with Server(workers=workers) as server:
        run_load(server.url, asked, levels=(8,), rounds=1, max_requests=len(asked) * workers * 2)  # warm caches
        report(run_load(server.url, asked, cpu=server.cpu_seconds),
               f"load, {workers} workers, questions seen before (query cache warm):")


if __name__ == "__main__":
    main()
