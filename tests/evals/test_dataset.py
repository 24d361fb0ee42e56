import json
from collections import Counter

import pytest

from evals.dataset import DatasetError, load_dataset
from tests.conftest import CORPUS, ROOT

SEED = ROOT / "evals" / "datasets" / "seed_qa.jsonl"


def test_seed_dataset_schema_and_evidence():
    items = load_dataset(SEED, CORPUS)  # raises on schema errors or evidence missing from its source
    assert len(items) >= 120
    types = Counter(i.type for i in items)
    n = len(items)
    assert types["unanswerable"] >= 0.1 * n
    assert types["followup"] >= 0.1 * n and all(i.history for i in items if i.type == "followup")
    assert sum(1 for i in items if i.type == "paraphrase" and i.persona == "sme") >= 0.1 * n
    assert sum(1 for i in items if i.question.isascii() or sum(c.isascii() for c in i.question) > 0.8 * len(i.question)) >= 5
    assert all(i.evidence and i.must_include for i in items if i.answerable)


def test_seed_dataset_covers_documents_in_proportion_to_length():
    items = load_dataset(SEED)
    per_source = Counter(i.source for i in items if i.source)
    sizes = {p.name: len(p.read_text(encoding="utf-8")) for p in CORPUS.glob("*.txt")}
    total_items, total_size = sum(per_source.values()), sum(sizes.values())
    for name, size in sizes.items():
        expected = total_items * size / total_size
        assert per_source[name] >= 0.5 * expected, f"{name}: {per_source[name]} items, expected about {expected:.0f}"


def test_invalid_items_are_reported(tmp_path):
    bad = tmp_path / "bad.jsonl"
    good = json.loads(SEED.read_text(encoding="utf-8").splitlines()[0])
    rows = [good, {**good, "persona": "robot"}, {**good, "id": "x2", "evidence": ["この文字列は資料にない"]}, good]
    bad.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(DatasetError) as err:
        load_dataset(bad, CORPUS)
    text = str(err.value)
    assert "persona" in text and "evidence not found" in text and "duplicate id" in text and ":5:" in text


CATALOGUE_QA = ROOT / "evals" / "datasets" / "catalogue_qa.jsonl"


def test_catalogue_dataset_schema_and_evidence():
    """List and comparison items (issue 8): answers that need several programs, evidence in the source."""
    items = load_dataset(CATALOGUE_QA, CORPUS)
    assert len(items) >= 20
    assert {i.type for i in items} <= {"list", "comparison"} and len({i.type for i in items}) == 2
    assert all((i.answerable and i.evidence and len(i.must_include) >= 2) or i.type == "list" for i in items)
    assert all(len(i.evidence) >= 2 for i in items if i.type == "comparison")


def test_items_are_split_into_tune_and_heldout():
    """Every dataset keeps a held-out part nobody tunes on; items written before the split are tune."""
    realdocs = load_dataset(ROOT / "evals" / "datasets" / "realdocs.jsonl")
    splits = Counter(i.split for i in realdocs)
    assert splits["heldout"] >= 30 and splits["tune"] >= 30
    assert sum(1 for i in realdocs if not i.answerable) >= 10
    seeds = load_dataset(SEED)
    held = [i for i in seeds if i.split == "heldout"]
    assert len(held) >= 120 and sum(1 for i in held if not i.answerable) >= 15
    assert sum(1 for i in held if i.persona == "sme") >= 20
    assert {i.source for i in held if i.source} == {i.source for i in seeds if i.source}  # all five documents


def test_finder_situations_keep_a_heldout_part():
    from evals.finder_eval import load_finder_dataset

    situations = load_finder_dataset(ROOT / "evals" / "datasets" / "finder.jsonl", ROOT / "corpus")
    held = [s for s in situations if s.split == "heldout"]
    assert len(held) >= 30 and sum(1 for s in held if s.no_fit) >= 5


def test_realdocs_dataset_evidence_stands_in_the_added_documents(realdocs_corpus):
    items = load_dataset(ROOT / "evals" / "datasets" / "realdocs.jsonl", realdocs_corpus)
    assert len(items) >= 60
    assert {i.source for i in items if i.source} >= {"it2025_koubo_tsujyo.txt", "it2025_koubo_security.txt"}


def test_dev_datasets_evidence_stands_in_their_documents(realdocs_corpus):
    """The fresh tune sets (written after the held-out ones, to find failure patterns without looking there)."""
    seeds = load_dataset(ROOT / "evals" / "datasets" / "seed_dev.jsonl", CORPUS)
    real = load_dataset(ROOT / "evals" / "datasets" / "realdocs_dev.jsonl", realdocs_corpus)
    assert {i.split for i in seeds + real} == {"tune"}
    assert sum(1 for i in seeds if not i.answerable) >= 10 and sum(1 for i in real if not i.answerable) >= 5
