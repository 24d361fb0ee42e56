"""The evaluation suite as `advisor eval` runs it: datasets through one Advisor per answerer mode, then gates.

The CLI only reads its options, prints and writes files; what is run and how it is judged lives here."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Settings
from bot.engine import Advisor
from evals.dataset import EvalItem, load_dataset
from evals.finder_eval import FinderItem, is_finder_dataset, load_finder_dataset
from evals.finder_eval import run as run_finder
from evals.report import gate
from evals.runner import run


@dataclass
class SuiteRun:
    """What one `advisor eval` produced: the --json payload, the headline tables to print, the missed gates."""

    result: dict
    headlines: list[dict] = field(default_factory=list)  # one table per answerer run
    labels: list[str] = field(default_factory=list)
    splits: dict[str, dict] = field(default_factory=dict)  # tune / heldout tables (Q&A or finder)
    finder_only: bool = False
    failures: list[str] = field(default_factory=list)


def load_all(paths: Sequence[Path], corpus_dir: Path) -> tuple[list[EvalItem], list[FinderItem]]:
    """Q&A items and finder situations of the given files (a file is one or the other)."""
    finder_paths = [p for p in paths if is_finder_dataset(p)]
    items = [item for path in paths if path not in finder_paths for item in load_dataset(path, corpus_dir)]
    situations = [s for path in finder_paths for s in load_finder_dataset(path, corpus_dir)]
    return items, situations


def advisors(settings: Settings, modes: Sequence[str]) -> Iterator[tuple[str, Advisor]]:
    """An Advisor per answerer mode, in order; the later ones reuse the first's loaded index and models."""
    shared = None
    for mode in modes:
        advisor = Advisor(settings.model_copy(update={"answerer": mode}))
        if shared is not None:
            advisor.share_index(shared)
        shared = advisor
        yield mode, advisor


def run_suite(settings: Settings, items: Sequence[EvalItem], situations: Sequence[FinderItem], modes: Sequence[str],
              gates: dict, k: int = 5, progress: Callable[[str, int, int], None] | None = None) -> SuiteRun:
    """Run the items (or, with none, the finder situations) per answerer mode and gate the last run: its
    overall figures on `gates[overall]` (`[finder]` for situations), its splits on `[tune]` and `[heldout]`."""
    if not items:
        runs = []
        for _mode, advisor in advisors(settings, modes):  # with `llm` the finder asks the model too
            runs.append(run_finder(advisor.finder, situations))
            llm = advisor.finder.llm
            runs[-1]["metrics"]["finder"]["llm_requests"] = llm.calls if llm is not None else 0
        result = runs[-1]
        if len(runs) > 1:
            result["compare"] = runs[0]
        splits = result["metrics"]["finder_by_split"]
        failures = _gated(result["metrics"]["finder"], splits, gates, "finder")
        return SuiteRun(result, [r["metrics"]["finder"] for r in runs],
                        ["rules" if m == "extractive" else "with LLM" for m in modes], splits, True, failures)
    results, shared = [], None
    for mode, advisor in advisors(settings, modes):
        shared = advisor
        result = run(advisor, items, k=k, progress=_per_run(progress, mode))
        result["answerer"] = result["metrics"]["answerer"] = mode
        if mode == "llm":
            result["metrics"]["overall"].setdefault("notice_rate", 0.0)
        results.append(result)
    result = results[-1]
    if len(results) > 1:
        result["compare"] = results[0]
    if situations and shared is not None:
        finder_result = run_finder(shared.finder, situations)
        result["metrics"]["finder"] = finder_result["metrics"]["finder"]
        result["finder_items"] = finder_result["finder_items"]
    splits = result["metrics"]["by_split"]
    failures = _gated(result["metrics"]["overall"], splits, gates, "overall")
    return SuiteRun(result, [r["metrics"]["overall"] for r in results], [r["answerer"] for r in results], splits,
                    False, failures)


def _gated(overall: dict, splits: dict[str, dict], gates: dict, table: str) -> list[str]:
    """The missed gates: the whole run against `gates[table]`, each split against `gates[tune|heldout]`."""
    failures = gate(overall, gates.get(table, {}))
    return failures + [f"{name} {f}" for name in ("tune", "heldout") for f in gate(splits.get(name, {}), gates.get(name, {}))]


def _per_run(progress: Callable[[str, int, int], None] | None, mode: str) -> Callable[[int, int], None] | None:
    """The runner's progress callback for one answerer mode."""
    if progress is None:
        return None
    report = progress
    return lambda i, n: report(mode, i, n)
