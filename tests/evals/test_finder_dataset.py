"""The finder dataset: its shape, its mix, and every evidence quote standing in its source."""

from collections import Counter
from pathlib import Path

from evals.finder_eval import is_finder_dataset, load_finder_dataset
from tests.conftest import CORPUS

DATASET = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "finder.jsonl"


def test_finder_dataset_is_valid_and_mixed():
    items = load_finder_dataset(DATASET, CORPUS)
    assert is_finder_dataset(DATASET)
    assert len(items) >= 30
    mix = Counter()
    for item in items:
        mix["needs_question"] += item.needs_question
        mix["no_fit"] += item.no_fit
        mix["several"] += len(item.expected) >= 2
        assert item.no_fit or {e.program for e in item.evidence} == set(item.expected), item.id
    assert mix["needs_question"] >= 5 and mix["no_fit"] >= 3 and mix["several"] >= 5, mix
