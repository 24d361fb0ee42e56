"""Growth benchmark: search latency, memory and store build rate as the corpus grows 10x and 100x.

`python -m evals.growth [--sizes 1,10,100] [--chroma-server]` (also run by `make bench`).

The corpus at N x is the built seed index (`.advisor/`, or `--base`) and N-1 generated variants of every
passage: the same document in another prefecture's edition, with its figures changed, so that keyword
statistics grow as a real corpus's would. Nothing is written into the repository; the grown indexes live in
a temporary directory.

What is real and what is derived:
- search, keyword index, vector store, memory: real, at each size (the engine's own Retriever and index);
- a variant's vector is its original's plus a little noise (re-normalised) instead of a fresh embedding: the
  embedder costs the same per passage at any corpus size, so the build rate at N x is reported as the store
  and keyword-index rate measured here, and the embedding bound beside it from the rate measured at 1 x.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

import numpy as np

from bot.config import Settings
from evals.dataset import load_dataset
from retrieval.areas import areas
from retrieval.embedders import Embedder
from retrieval.index import (
    CHUNKER_VERSION,
    COLLECTION,
    PASSAGES_FILE,
    STATE_FILE,
    ChromaTarget,
    PassageIndex,
    index_row,
)
from retrieval.types import Passage

ADD_BATCH = 2000
NOISE = 0.01  # per-dimension noise of a variant's vector (unit vectors of 384 dims: cosine to the original ~0.98)
_DIGIT_RE = re.compile(r"[0-9]")


def rss_mb() -> float:
    """This process's resident memory (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def variant(row: dict, k: int) -> dict:
    """The k-th edition of a passage: another prefecture's document, its digits rotated by k."""
    pref = areas().prefectures[k % len(areas().prefectures)]
    shift = k % 9 + 1
    text = _DIGIT_RE.sub(lambda m: str((int(m.group()) + shift) % 10), row["text"])
    source = f"v{k:03d}_{row['source']}"
    pid = f"v{k:03d}_{row['id']}"
    out = {**row, "id": pid, "source": source, "text": text, "section": f"{pref}版 > {row['section']}"}
    if row.get("parent"):
        out["parent"] = f"v{k:03d}_{row['parent']}"
    return out


def grow(base_dir: Path, out_dir: Path, factor: int, target: ChromaTarget, rng: np.random.Generator) -> dict:
    """Write an index of `factor` x the base under out_dir (vectors to `target`); return its build figures."""
    named = cast(Embedder, _Named(_state(base_dir)["embedder"]))
    base = PassageIndex(base_dir, named)
    collection = base._get_collection(create=False)
    got = collection.get(include=["embeddings"])
    vectors = {pid: np.asarray(v, dtype=np.float32) for pid, v in zip(got["ids"], got["embeddings"], strict=True)}
    rows = [json.loads(line) for line in (base_dir / PASSAGES_FILE).read_text(encoding="utf-8").splitlines() if line]
    out_dir.mkdir(parents=True, exist_ok=True)  # a server store writes nothing here itself
    index = PassageIndex(out_dir, named, target)
    index._drop_collection()
    grown = index._get_collection(create=True)
    t_tokens = t_store = 0.0
    out_rows: list[dict] = []
    for k in range(factor):
        batch_rows = rows if k == 0 else [variant(r, k) for r in rows]
        t0 = time.perf_counter()
        if k:
            batch_rows = [index_row(Passage(**{f: r[f] for f in Passage.__dataclass_fields__ if f in r}))
                          for r in batch_rows]
        t_tokens += time.perf_counter() - t0
        vecs = np.stack([vectors[r["id"] if k == 0 else r["id"].split("_", 1)[1]] for r in batch_rows])
        if k:
            vecs = vecs + rng.normal(0, NOISE, vecs.shape).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        t0 = time.perf_counter()
        for i in range(0, len(batch_rows), ADD_BATCH):
            part = batch_rows[i:i + ADD_BATCH]
            grown.add(ids=[r["id"] for r in part], embeddings=vecs[i:i + ADD_BATCH].tolist(),
                      documents=[r["text"] for r in part],
                      metadatas=[{"source": r["source"], "start_line": r["start_line"], "end_line": r["end_line"]}
                                 for r in part])
        t_store += time.perf_counter() - t0
        out_rows.extend(batch_rows)
    with (out_dir / PASSAGES_FILE).open("w", encoding="utf-8") as f:
        for r in out_rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    state = _state(base_dir)
    (out_dir / STATE_FILE).write_text(json.dumps({**state, "chunker": CHUNKER_VERSION}, ensure_ascii=False),
                                      encoding="utf-8")
    keys = len(out_rows)
    return {"keys": keys, "passages": sum(1 for r in out_rows if not r.get("parent")),
            "store_keys_per_s": keys / t_store if t_store else float("nan"),
            "tokenize_keys_per_s": (keys - len(rows)) / t_tokens if t_tokens else float("nan")}


def measure(out_dir: Path, corpus_dir: Path, target: ChromaTarget, questions: list[str]) -> dict:
    """In a fresh process: load the grown index, then time each question's search and answer."""
    code = (
        "import json,sys,time,statistics;from pathlib import Path;from bot.config import Settings;"
        "from bot.engine import Advisor;from evals.growth import rss_mb;from evals.metrics import percentile\n"
        "a=json.loads(sys.stdin.read());r0=rss_mb()\n"
        "s=Settings(data_dir=Path(a['data']),corpus_dir=Path(a['corpus']),chroma_host=a['host'],chroma_port=a['port'],chroma_collection=a['collection'])\n"
        "adv=Advisor(s);t=time.perf_counter();adv.warm_up();load=time.perf_counter()-t;r1=rss_mb()\n"
        "def timed(f,q):\n t=time.perf_counter();f(q);return (time.perf_counter()-t)*1000\n"
        "qs=a['questions'];se=[timed(lambda q:adv.search(q,10),q) for q in qs];ak=[timed(adv.ask,q) for q in qs]\n"
        "print(json.dumps({'load_s':load,'rss_before_mb':r0,'rss_loaded_mb':r1,'rss_after_mb':rss_mb(),"
        "'search_p50_ms':statistics.median(se),'search_p95_ms':percentile(se,0.95),"
        "'ask_p50_ms':statistics.median(ak),'ask_p95_ms':percentile(ak,0.95)}))\n"
    )
    args = {"data": str(out_dir), "corpus": str(corpus_dir), "host": target.host, "port": target.port,
            "collection": target.collection,
            "questions": questions}
    env = {**os.environ, "ADVISOR_QUERY_CACHE_SIZE": "0"}
    env.pop("CHROMA_HOST", None)
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(args), capture_output=True, text=True,
                          env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def embedding_rate(settings: Settings, sample: list[str]) -> tuple[float, float]:
    """Passages/s and ms per query of the configured embedder on this machine (the bounds beside the figures)."""
    from retrieval.embedders import make_embedder

    embedder = make_embedder(settings.embedder, settings.embedder_model)
    embedder.embed_passages(sample[:8])
    t0 = time.perf_counter()
    embedder.embed_passages(sample)
    per_passage = (time.perf_counter() - t0) / len(sample)
    t0 = time.perf_counter()
    for q in sample[:32]:
        embedder.embed_query(q[:60])
    per_query = (time.perf_counter() - t0) / 32 * 1000
    return 1 / per_passage, per_query


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,100", help="Corpus sizes as multiples of the base index.")
    parser.add_argument("--base", type=Path, default=None, help="A built index directory (default: ADVISOR_DATA_DIR).")
    parser.add_argument("--dataset", default="evals/datasets/seed_qa.jsonl", help="Questions to time.")
    parser.add_argument("--questions", type=int, default=60, help="How many of them (first-turn ones).")
    parser.add_argument("--chroma-server", action="store_true",
                        help="Also measure with the vectors on a Chroma server (`chroma run`, started here).")
    parser.add_argument("--stores", default="embedded",
                        help="Which vector stores to measure: embedded, server, or both (comma-separated).")
    args = parser.parse_args()
    settings = Settings()
    base_dir = args.base or settings.data_dir
    if not (base_dir / STATE_FILE).exists():
        raise SystemExit(f"no index under {base_dir}: run `advisor index` first")
    questions = [i.question for i in load_dataset(Path(args.dataset)) if not i.history][:args.questions]
    rows = [json.loads(line) for line in (base_dir / PASSAGES_FILE).read_text(encoding="utf-8").splitlines() if line]
    per_s, per_query_ms = embedding_rate(settings, [r["text"] for r in rows[:64]])
    print(f"embedder {settings.embedder}: {per_s:.1f} passages/s, {per_query_ms:.1f} ms per query embedding "
          f"(the bound: a build cannot beat the first, a search not the second)")
    wanted = set(args.stores.split(",")) | ({"server"} if args.chroma_server else set())
    stores = [(name, host) for name, host in (("embedded", None), ("server", "127.0.0.1")) if name in wanted]
    rng = np.random.default_rng(0)
    table: list[dict] = []
    for store, host in stores:
        with tempfile.TemporaryDirectory() as tmp, _chroma_server(Path(tmp) / "server", host) as port:
            for factor in (int(s) for s in args.sizes.split(",")):
                out = Path(tmp) / f"x{factor}"
                target = ChromaTarget(host=host, port=port or 8000, collection=f"{COLLECTION}-x{factor}")
                built = grow(base_dir, out, factor, target, rng)
                got = measure(out, settings.corpus_dir, target, questions)
                first = next((r for r in table if r["store"] == store), None)
                # memory a passage adds: against the smallest size (what loading the models costs is not per passage)
                grew = (got["rss_loaded_mb"] - first["rss_loaded_mb"]) / (built["keys"] - first["keys"]) * 10_000 \
                    if first and built["keys"] > first["keys"] else float("nan")
                row = {"store": store, "size": f"{factor}x", **built, **got, "mb_per_10k_keys": grew,
                       "embed_bound_h": built["keys"] / per_s / 3600}
                table.append(row)
                print(json.dumps(row, ensure_ascii=False))
    print()
    print("| store | size | passages (+units) | store keys/s | tokenize keys/s | full build at embedder rate | "
          "search p50 / p95 ms | ask p50 / p95 ms | RSS loaded MB | MB per 10k keys (vs smallest) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in table:
        print(f"| {r['store']} | {r['size']} | {r['passages']} ({r['keys']}) | {r['store_keys_per_s']:.0f} | "
              f"{r['tokenize_keys_per_s']:.0f} | {r['embed_bound_h']:.2f} h | {r['search_p50_ms']:.1f} / "
              f"{r['search_p95_ms']:.1f} | {r['ask_p50_ms']:.1f} / {r['ask_p95_ms']:.1f} | {r['rss_loaded_mb']:.0f} | "
              f"{r['mb_per_10k_keys']:.0f} |")
    print(f"(query embedding alone: {per_query_ms:.1f} ms; search p95 at the largest size vs 1x: "
          f"{_ratio(table):.2f}x, target <= 2x)")


def _ratio(table: list[dict]) -> float:
    first = [r for r in table if r["store"] == table[0]["store"]] if table else []
    return first[-1]["search_p95_ms"] / first[0]["search_p95_ms"] if first else float("nan")


class _Named:
    """Stands in for the embedder when only its name is needed (the vectors are copied, not computed)."""

    def __init__(self, name: str) -> None:
        self.name = name


def _state(data_dir: Path) -> dict:
    return json.loads((data_dir / STATE_FILE).read_text(encoding="utf-8"))


class _chroma_server:
    """A Chroma server from the chromadb package on a free port for the run (nothing when host is None)."""

    def __init__(self, path: Path, host: str | None) -> None:
        self.path, self.host = path, host
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> int | None:
        if self.host is None:
            return None
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        chroma = Path(sys.executable).with_name("chroma")
        self.proc = subprocess.Popen([str(chroma), "run", "--path", str(self.path), "--port", str(port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return port
            time.sleep(0.3)
        raise RuntimeError("the Chroma server did not start within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


if __name__ == "__main__":
    main()
