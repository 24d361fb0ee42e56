"""The passage index: a Chroma collection (vectors) and a keyword index (BM25), keyed by passage id.

Both live under the data directory (`.advisor/` by default); the vectors may instead live on a
Chroma server. The build is incremental: a file is re-chunked and re-embedded only when its
content hash (or the chunker) changed, and passages of deleted files are removed. The index
records the embedder it was built with and refuses to be queried with another.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.chunking import chunk_with_units
from retrieval.corpus import Manifest, corpus_files
from retrieval.embedders import Embedder
from retrieval.loaders import LoadError, content_hash, load
from retrieval.text import remember_tokens, squash, tokenize
from retrieval.types import Passage

log = logging.getLogger(__name__)

CHUNKER_VERSION = "21"  # bump when chunking or keyword tokens change: forces a rebuild
COLLECTION = "advisor-passages"
STATE_FILE = "state.json"
# Candidates the HNSW graph explores per query (Chroma's default is 100). With 100, two processes asking the
# same question of the same index got top-50 lists differing by a few passages (measured on the seeds), so
# eval figures moved by an item between runs; this breadth returns the exact nearest neighbours on corpora
# of some thousands of vectors, the same in every process, for well under a millisecond more per query.
SEARCH_EF = 1000
TIE_MARGIN = 16
PASSAGES_FILE = "passages.jsonl"
EMBED_BATCH = 32


class PassageIndexError(Exception):
    """Base of index errors; messages are meant for the person at the terminal."""


class IndexMissingError(PassageIndexError):
    pass


class EmbedderMismatchError(PassageIndexError):
    pass


class StoreUnavailableError(PassageIndexError):
    pass


@dataclass(frozen=True)
class ChromaTarget:
    """Where the vectors live: embedded under the data dir (host None) or on a Chroma server."""

    host: str | None = None
    port: int = 8000
    collection: str = COLLECTION

    def describe(self) -> str:
        return f"Chroma server {self.host}:{self.port}" if self.host else "embedded Chroma"


@dataclass
class BuildReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    passages: int = 0
    units: int = 0  # small units (lines, rows, items) indexed besides the passages
    embedded: int = 0


def embedding_text(p: Passage) -> str:
    """What the dense model sees: the section path (program name) then the passage. A small unit gets only
    the outermost (the program or call) and nearest headings: the model's cost grows with length, and the
    unit's own words are what it matches."""
    section = " > ".join(dict.fromkeys([p.section.split(" > ")[0], p.section.split(" > ")[-1]])) if p.parent \
        else p.section
    return f"{section}\n{p.text}" if section else p.text


def keyword_tokens(p: Passage) -> list[str]:
    return tokenize(f"{p.section}\n{p.text}")


def index_row(p: Passage) -> dict:
    """A passage as the keyword index stores it: with its keyword tokens and, for a passage (not a small unit),
    the tokens of its text alone, which search reads to re-rank by coverage (retrieval/search.py). Stored at
    build time, so that no search tokenizes a passage it has not seen before (the cost of a cold cache)."""
    row = {**p.to_dict(), "tokens": keyword_tokens(p)}
    if not p.parent:
        row["text_tokens"] = tokenize(p.text)
    return row


class PassageIndex:
    """Build, update and query the two halves of the index."""

    def __init__(self, data_dir: Path, embedder: Embedder, chroma: ChromaTarget | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.embedder = embedder
        self.chroma = chroma or ChromaTarget()
        self._client = None
        self._collection = None
        self.passages: dict[str, Passage] = {}
        self.units: dict[str, Passage] = {}
        self._ids: list[str] = []
        self._passage_ids: list[str] = []
        self._unit_ids: list[str] = []
        self._bm25 = None
        self._bm25_units = None
        self._df: Counter[str] = Counter()
        self._squashed: str | None = None  # every passage, squashed, for `mentions` (built on first use)
        self._by_source: dict[str, list[Passage]] = {}

    # --- storage ---------------------------------------------------------------------------

    def _client_or_raise(self):
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            settings = ChromaSettings(anonymized_telemetry=False)
            try:
                if self.chroma.host:
                    self._client = chromadb.HttpClient(host=self.chroma.host, port=self.chroma.port, settings=settings)
                    self._client.heartbeat()
                else:
                    (self.data_dir / "chroma").mkdir(parents=True, exist_ok=True)
                    self._client = chromadb.PersistentClient(path=str(self.data_dir / "chroma"), settings=settings)
            except Exception as exc:  # chromadb raises assorted connection errors
                self._client = None
                raise StoreUnavailableError(
                    f"{self.chroma.describe()} is unreachable ({type(exc).__name__}: {exc}). "
                    "Start it, or unset CHROMA_HOST to use the embedded store."
                ) from exc
        return self._client

    def reachable(self) -> bool:
        """Can the vector store answer right now? (readiness checks; a server may go down after start-up)"""
        try:
            self._client_or_raise().heartbeat()
            return True
        except Exception:  # chromadb raises assorted connection errors
            return False

    def _get_collection(self, create: bool):
        if self._collection is None:
            client = self._client_or_raise()
            try:
                if create:
                    self._collection = client.get_or_create_collection(
                        self.chroma.collection,
                        metadata={"embedder": self.embedder.name},
                        configuration={"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}},
                        embedding_function=None,
                    )
                else:
                    self._collection = client.get_collection(self.chroma.collection, embedding_function=None)
                _search_broadly(self._collection)
            except Exception as exc:
                if not create:
                    raise IndexMissingError(
                        f"no index found in {self.chroma.describe()}: run `advisor index` to build it"
                    ) from exc
                raise StoreUnavailableError(f"{self.chroma.describe()}: {exc}") from exc
        return self._collection

    def _read_state(self) -> dict:
        path = self.data_dir / STATE_FILE
        if not path.exists():
            return {}
        return json.loads(path.read_text(encoding="utf-8"))

    def _write_state(self, state: dict, rows: Iterable[dict]) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.data_dir / (PASSAGES_FILE + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        tmp.replace(self.data_dir / PASSAGES_FILE)
        (self.data_dir / STATE_FILE).write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")

    def _read_rows(self) -> list[dict]:
        path = self.data_dir / PASSAGES_FILE
        if not path.exists():
            return []
        with path.open(encoding="utf-8") as f:
            return [_interned(json.loads(line)) for line in f if line.strip()]

    def exists(self) -> bool:
        return (self.data_dir / STATE_FILE).exists()

    # --- build -----------------------------------------------------------------------------

    def build(self, corpus_dir: Path, rebuild: bool = False, progress: bool = True,
              on_error: Callable[[str], None] | None = None, checkpoint_seconds: float = 30.0) -> BuildReport:
        """Bring the index in line with the corpus folder, embedding only what changed.

        Resumable: every `checkpoint_seconds` the documents embedded so far are recorded, so a build that is
        stopped (a large sync, a killed process) goes on from there the next time instead of starting over."""
        report = BuildReport()
        state = {} if rebuild else self._read_state()
        if state and state.get("embedder") != self.embedder.name:
            raise EmbedderMismatchError(
                f"the index was built with {state.get('embedder')!r} but the configured embedder is "
                f"{self.embedder.name!r}: run `advisor index --rebuild` to re-embed the corpus with it"
            )
        if state.get("chunker") != CHUNKER_VERSION:
            rebuild, state = True, {}  # passages are cut differently now: start clean
        if rebuild:
            self._drop_collection()
        collection = self._get_collection(create=True)
        recorded = (collection.metadata or {}).get("embedder")
        if recorded and recorded != self.embedder.name:
            raise EmbedderMismatchError(
                f"the Chroma collection holds vectors of {recorded!r}, not {self.embedder.name!r}: "
                "run `advisor index --rebuild`"
            )
        old_files: dict[str, dict] = state.get("files", {})
        rows_by_file: dict[str, list[dict]] = {}
        for row in self._read_rows() if old_files else []:
            rows_by_file.setdefault(row["source"], []).append(row)

        manifest = Manifest.load(corpus_dir)
        files = corpus_files(corpus_dir)
        new_files: dict[str, dict] = {}
        todo: list[tuple[str, list[Passage]]] = []
        for path in files:
            name = path.name
            digest = content_hash(path.read_bytes())
            title = manifest.title(name) or ""
            entry = manifest.entry(name)
            # A document that says which call it is (program, 枠) puts that in every passage's heading path:
            # the five 公募要領 of one program repeat the same paragraphs, and only this tells them apart.
            root = (f"{entry.program}（{entry.track}）" if entry.track else entry.program) if entry else ""
            if old_files.get(name, {}).get("hash") == digest and old_files[name].get("manifest_title") == title \
                    and old_files[name].get("root", "") == root:
                new_files[name] = old_files[name]
                report.unchanged.append(name)
                continue
            try:
                doc = load(path, title=title or None)
            except LoadError as exc:
                report.errors.append(str(exc))
                if on_error:
                    on_error(str(exc))
                if name in old_files:  # keep what was indexed before rather than lose it
                    new_files[name] = old_files[name]
                continue
            passages, units = chunk_with_units(doc, root=root)
            # Only a call document (公募要領, 交付規程) states its facts on single lines and table rows; in the
            # prose of budget sheets and white papers units add noise, not precision (measured on both), and
            # they would double the embedding cost.
            passages = passages + (units if root else [])
            todo.append((name, passages))
            new_files[name] = {"hash": digest, "title": doc.title, "manifest_title": title, "root": root}
            (report.updated if name in old_files else report.added).append(name)
        for name in old_files:
            if name not in new_files:
                report.removed.append(name)

        for name in report.removed:
            collection.delete(where={"source": name})
            rows_by_file.pop(name, None)
        total = sum(len(ps) for _, ps in todo)
        bar = _progress(total, progress)
        pending = {n for n, _ in todo}
        last_checkpoint = time.monotonic()
        for name, passages in todo:
            # also what a stopped build left of this document (its vectors, not yet recorded)
            collection.delete(where={"source": name})
            rows_by_file[name] = []
            for batch in _batches(passages, EMBED_BATCH):
                vectors = self.embedder.embed_passages([embedding_text(p) for p in batch])
                collection.add(
                    ids=[p.id for p in batch],
                    embeddings=vectors.tolist(),
                    documents=[p.text for p in batch],
                    metadatas=[{"source": p.source, "start_line": p.start_line, "end_line": p.end_line}
                               for p in batch],
                )
                rows_by_file[name].extend(index_row(p) for p in batch)
                report.embedded += len(batch)
                bar.update(len(batch))
            pending.discard(name)
            if time.monotonic() - last_checkpoint >= checkpoint_seconds:
                done = {n: v for n, v in new_files.items() if n not in pending}
                self._write_state({"embedder": self.embedder.name, "chunker": CHUNKER_VERSION, "files": done},
                                  [row for n in sorted(rows_by_file) if n in done for row in rows_by_file[n]])
                last_checkpoint = time.monotonic()
        bar.close()

        rows = [row for name in sorted(rows_by_file) if name in new_files for row in rows_by_file[name]]
        report.units = sum(1 for row in rows if row.get("parent"))
        report.passages = len(rows) - report.units
        self._write_state({"embedder": self.embedder.name, "chunker": CHUNKER_VERSION, "files": new_files}, rows)
        self._load_rows(rows)
        return report

    def _drop_collection(self) -> None:
        client = self._client_or_raise()
        with contextlib.suppress(Exception):  # absent already
            client.delete_collection(self.chroma.collection)
        self._collection = None

    # --- load & query ----------------------------------------------------------------------

    def load(self) -> None:
        """Open an existing index for querying; raise a clear error if missing or built otherwise."""
        state = self._read_state()
        if not state:
            raise IndexMissingError(f"no index under {self.data_dir}: run `advisor index` to build it")
        if state.get("embedder") != self.embedder.name:
            raise EmbedderMismatchError(
                f"the index under {self.data_dir} was built with {state.get('embedder')!r} but the configured "
                f"embedder is {self.embedder.name!r}: run `advisor index --rebuild` (or set ADVISOR_EMBEDDER back)"
            )
        collection = self._get_collection(create=False)
        recorded = (collection.metadata or {}).get("embedder")
        if recorded != self.embedder.name:
            raise EmbedderMismatchError(
                f"the Chroma collection holds vectors of {recorded!r}, not {self.embedder.name!r}: "
                "run `advisor index --rebuild`"
            )
        rows = self._read_rows()
        if collection.count() != len(rows):
            raise IndexMissingError(
                f"the vector store has {collection.count()} passages but the keyword index {len(rows)}: "
                "run `advisor index --rebuild`"
            )
        self._load_rows(rows)

    def _load_rows(self, rows: list[dict]) -> None:
        import bm25s

        every = {r["id"]: _passage_of(r) for r in rows}
        for r in rows:
            if not r.get("parent"):
                remember_tokens(f"{r['section']}\n{r['text']}", r["tokens"])  # what keyword_tokens read
                if "text_tokens" in r:  # an index built before these were stored tokenizes on first use
                    remember_tokens(r["text"], r["text_tokens"])
        self.passages = {pid: p for pid, p in every.items() if not p.parent}
        self.units = {pid: p for pid, p in every.items() if p.parent}  # small units, matched for their parent
        self._ids = [r["id"] for r in rows]
        self._df = Counter(t for r in rows if not r.get("parent") for t in set(r["tokens"]))
        self._squashed = None
        self._by_source = {}
        for p in sorted(self.passages.values(), key=lambda p: p.start_line):
            self._by_source.setdefault(p.source, []).append(p)
        self._passage_ids = [r["id"] for r in rows if not r.get("parent")]
        self._unit_ids = [r["id"] for r in rows if r.get("parent")]
        self._bm25 = self._bm25_units = None
        for kind, wanted in (("_bm25", False), ("_bm25_units", True)):
            docs = [r["tokens"] or ["\u0000"] for r in rows if bool(r.get("parent")) == wanted]
            if docs:
                bm25 = bm25s.BM25(k1=1.2, b=0.75)
                bm25.index(docs, show_progress=False)
                setattr(self, kind, bm25)

    def idf(self, token: str) -> float:
        """BM25-style inverse document frequency of a token over all passages (rare words weigh more)."""
        n, df = len(self.passages), self._df.get(token, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def knows(self, token: str) -> bool:
        """Does any passage contain this token?"""
        return token in self._df

    def mentions(self, text: str) -> bool:
        """Does any passage (or its heading path) say this, NFKC and spacing aside? For names: a program the
        question names that no document spells out is one the documents cannot speak about."""
        if self._squashed is None:
            self._squashed = "\n".join(squash(f"{p.section}\n{p.text}") for p in self.passages.values())
        return squash(text) in self._squashed

    def text_before(self, passage: Passage, lines: int = 60) -> str:
        """Text of the passages of the same document that end within `lines` lines before this one."""
        return "\n".join(p.text for p in self.passages_before(passage, lines))

    def passages_before(self, passage: Passage, lines: int = 60) -> list[Passage]:
        """The passages of the same document that end within `lines` lines before this one (its headings,
        the sentence that introduces its list)."""
        return [p for p in self._by_source.get(passage.source, [])
                if passage.start_line - lines <= p.end_line < passage.start_line]

    def parent_of(self, pid: str) -> Passage:
        """The passage a key stands for: itself, or the passage a small unit belongs to."""
        unit = self.units.get(pid)
        return self.passages[unit.parent] if unit is not None else self.passages[pid]

    def dense(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Nearest passages by cosine similarity."""
        return self.nearest(vector, n)[0]

    def nearest(self, vector: np.ndarray, n: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The n nearest passages and the n nearest small units, by cosine similarity, from one query: the
        store holds both, so it is asked for enough keys that each kind fills its own list."""
        if not self.passages:
            return [], []
        collection = self._get_collection(create=False)
        want = (n if not self.units else n * (1 + -(-len(self.units) // max(len(self.passages), 1))) * 2) + TIE_MARGIN
        try:
            result = collection.query(query_embeddings=[vector.tolist()], n_results=min(want, len(self._ids)),
                                      include=["distances"])
        except Exception as exc:
            raise StoreUnavailableError(f"{self.chroma.describe()} failed to answer: {exc}") from exc
        found = [(pid, 1.0 - float(d)) for pid, d in zip(result["ids"][0], result["distances"][0], strict=True)]
        # Passages with the same text have the same vector, and the graph returns any of them at the cut:
        # asked for a few more and ordered by id among equals, every process keeps the same ones.
        found.sort(key=lambda f: (-f[1], f[0]))
        return [f for f in found if f[0] in self.passages][:n], [f for f in found if f[0] in self.units][:n]

    def keyword(self, tokens: Sequence[str], n: int) -> list[tuple[str, float]]:
        """Best passages by BM25 over Sudachi tokens; passages with score 0 are left out."""
        return self._best(self._bm25, self._passage_ids, tokens, n)

    def keyword_units(self, tokens: Sequence[str], n: int) -> list[tuple[str, float]]:
        """Best small units by BM25 (an index of their own: their lengths and words do not skew the passages')."""
        return self._best(self._bm25_units, self._unit_ids, tokens, n)

    @staticmethod
    def _best(bm25, ids: list[str], tokens: Sequence[str], n: int) -> list[tuple[str, float]]:
        if bm25 is None or not ids or not tokens:
            return []
        scores = bm25.get_scores(list(tokens))
        top = np.argsort(-scores)[:n]
        return [(ids[i], float(scores[i])) for i in top if scores[i] > 0]


def _search_broadly(collection) -> None:
    """Give an index built with a narrower HNSW search (Chroma's default 100, or an older advisor's) the
    breadth of SEARCH_EF; a store that cannot change it keeps answering as before."""
    try:
        hnsw = (collection.configuration or {}).get("hnsw") or {}
        if (hnsw.get("ef_search") or 0) < SEARCH_EF:
            collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
    except Exception as exc:  # an older server without configurable collections: approximate search stays
        log.info("could not widen the HNSW search of %s: %s", collection.name, exc)


def _interned(row: dict) -> dict:
    """A stored row with one string object per distinct token: JSON gives every occurrence its own, and at 100x
    the seeds those copies were most of the memory loading took (evals/growth.py)."""
    for key in ("tokens", "text_tokens"):
        if key in row:
            row[key] = [sys.intern(t) for t in row[key]]
    return row


def _passage_of(row: dict) -> Passage:
    return Passage(**{k: row[k] for k in Passage.__dataclass_fields__ if k in row})


def _batches(items: Sequence, size: int) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="passage", desc="embedding", disable=not enabled or total == 0, file=sys.stderr)
