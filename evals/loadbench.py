"""Load run against a live web server on 127.0.0.1 (part of `make bench`).

Starts `advisor serve` as a separate process, waits until /readyz,
then for each level of concurrent clients sends POST /api/chat for a bounded number of requests or
seconds, whichever ends first, a few rounds each; reports the median requests/s and p95 latency.
Questions cycle through the eval dataset, so the clients ask different questions, as users do.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from evals.metrics import percentile

TARGET = {"clients": 8, "rps": 50.0, "p95_ms": 300.0}
CPU_RATIO_TARGET = 1.3  # a request's CPU in the server against the engine's own answer, in process


@dataclass(frozen=True)
class Round:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_s: float = 0.0  # CPU time the server's processes spent during the round

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real server process with its own database; the index and corpus are those of the environment."""

    def __init__(self, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.workers = workers
        self.tmp = tempfile.TemporaryDirectory()
        self.env = {**os.environ, "ADVISOR_DATABASE_URL": f"sqlite:///{self.tmp.name}/load.db",
                    "ADVISOR_RATE_LIMIT": "", **(env or {})}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        log = Path(self.tmp.name) / "server.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers)],
            env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.__exit__()
        raise RuntimeError("server not ready within 180 s")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server and its worker processes."""
        import psutil

        assert self.proc is not None
        total = 0.0
        root = psutil.Process(self.proc.pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                times = proc.cpu_times()
            except psutil.Error:  # a worker that has just exited
                continue
            total += times.user + times.system
        return total

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.tmp.cleanup()


async def _round(url: str, questions: Sequence[str], clients: int, max_requests: int, max_seconds: float,
                 offset: int, cpu: Callable[[], float] | None = None) -> Round:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(max_requests))
    deadline = time.perf_counter() + max_seconds

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal errors
        for n in counter:
            if time.perf_counter() > deadline:
                return
            t0 = time.perf_counter()
            r = await http.post("/api/chat", json={"question": questions[(offset + n) % len(questions)]})
            latencies.append((time.perf_counter() - t0) * 1000)
            errors += r.status_code != 200

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        cpu0 = cpu() if cpu else 0.0
        t0 = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        seconds = time.perf_counter() - t0
        cpu_s = cpu() - cpu0 if cpu else 0.0
    return Round(requests=len(latencies), errors=errors, seconds=seconds, latencies_ms=latencies, server_cpu_s=cpu_s)


def run_load(url: str, questions: Sequence[str], levels: Sequence[int] = (1, 8, 32), rounds: int = 3,
             max_requests: int = 300, max_seconds: float = 10.0,
             cpu: Callable[[], float] | None = None) -> dict[int, dict[str, float]]:
    """Median requests/s and p95 latency (ms) per level of concurrent clients; with `cpu` (the server's CPU
    seconds so far, `Server.cpu_seconds`), also the server's CPU per request."""
    results: dict[int, dict[str, float]] = {}
    offset = 0
    for clients in levels:
        done = []
        for _ in range(rounds):
            done.append(asyncio.run(_round(url, questions, clients, max_requests, max_seconds, offset, cpu)))
            offset += done[-1].requests
        results[clients] = {
            "rps": statistics.median(r.rps for r in done),
            "p50_ms": statistics.median(statistics.median(r.latencies_ms) for r in done),
            "p95_ms": statistics.median(percentile(r.latencies_ms, 0.95) for r in done),
            "errors": sum(r.errors for r in done),
            "requests": sum(r.requests for r in done),
            "cpu_ms": 1000 * sum(r.server_cpu_s for r in done) / max(1, sum(r.requests for r in done)),
        }
    return results


def report(results: dict[int, dict[str, float]], title: str, in_process_cpu_ms: float | None = None) -> None:
    """Print each level; with the engine's own CPU per question, the web path's share beside its bound."""
    print(title)
    for clients, f in results.items():
        cpu = ""
        if f.get("cpu_ms"):
            cpu = f"  server CPU {f['cpu_ms']:5.1f} ms/request"
            if in_process_cpu_ms:
                cpu += f" ({f['cpu_ms'] / in_process_cpu_ms:.2f}x in process, bound <= {CPU_RATIO_TARGET}x)"
        print(f"  {clients:>3} clients: {f['rps']:6.1f} req/s  p50 {f['p50_ms']:6.1f} ms  p95 {f['p95_ms']:6.1f} ms"
              f"  ({int(f['requests'])} requests, {int(f['errors'])} errors){cpu}")
    at = results.get(int(TARGET["clients"]))
    if at:
        ok = at["rps"] >= TARGET["rps"] and at["p95_ms"] <= TARGET["p95_ms"] and not at["errors"]
        print(f"  target at {TARGET['clients']} clients: >= {TARGET['rps']:.0f} req/s with p95 <= "
              f"{TARGET['p95_ms']:.0f} ms: {'ok' if ok else 'MISSED'}")


@dataclass(frozen=True)
class EngineCost:
    """What a new question costs the engine itself, in one process with one embedder thread (as a web worker)."""

    ask_cpu_ms: float  # Advisor.ask, query cache off, mean over the questions
    embed_cpu_ms: float  # the query embedding alone (the bound: no answer comes cheaper than this)

    def max_rps(self, cores: int) -> float:
        """Requests/s this machine could serve at most if every core did nothing but embed new questions."""
        return 1000 * cores / self.embed_cpu_ms


def _engine_cost(questions: Sequence[str], warm: Sequence[str]) -> EngineCost:
    from bot.config import Settings
    from bot.engine import Advisor

    advisor = Advisor(Settings(query_cache_size=0))
    advisor.warm_up()
    for question in warm:  # the passage caches a running server has, but not these questions
        advisor.ask(question)
    asked = []
    for question in questions:
        t0 = time.process_time()
        advisor.ask(question)
        asked.append(time.process_time() - t0)
    embedder = advisor.retriever.index.embedder
    embedded = []
    for question in questions:
        text = advisor.understander.read(question, None).query.text
        t0 = time.process_time()
        embedder.embed_query(text)
        embedded.append(time.process_time() - t0)
    return EngineCost(ask_cpu_ms=1000 * statistics.mean(asked), embed_cpu_ms=1000 * statistics.mean(embedded))


def engine_cost(questions: Sequence[str], warm: Sequence[str], threads: int = 1) -> EngineCost:
    """`_engine_cost` in a fresh process whose embedder uses `threads` threads, as `advisor serve` gives each
    worker (the thread count is fixed when the model's library loads, so it cannot change in this process)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_embedder_threads,
                             initargs=(threads,)) as pool:
        return pool.submit(_engine_cost, list(questions), list(warm)).result()


def _embedder_threads(threads: int) -> None:
    """In the child, before any model library loads: the thread count its OpenMP runtime starts with."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
