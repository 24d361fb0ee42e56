"""What the browser test needs outside Python: Debian's chromium (installed here when missing) and a live server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
APT_PACKAGES = ["chromium", "fonts-noto-cjk"]


def ensure_chromium() -> Path:
    """Debian's chromium at /usr/bin/chromium; installed with apt-get when missing and we are root, else a failure.

    Never `playwright install`: the browser comes from the distribution, like the other system packages.
    """
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or apt is None:
        pytest.fail(f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get): "
                    f"run `apt-get install -y {' '.join(APT_PACKAGES)}`")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = [apt, "install", "-y", "--no-install-recommends", *APT_PACKAGES]
    result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:  # a fresh image has no package lists yet
        subprocess.run([apt, "update"], env=env, capture_output=True, text=True, timeout=600)
        result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0 or not CHROMIUM.exists():
        pytest.fail(f"could not install {' '.join(APT_PACKAGES)} with apt-get (exit {result.returncode}):\n"
                    f"{result.stderr[-3000:]}")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(data_dir: Path, corpus_dir: Path, database_url: str) -> dict[str, str]:
    """The environment of the server process (and of CLI calls that must see the same database)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ADVISOR_") and k not in ("CHROMA_HOST", "CHROMA_PORT")}
    env.update({
        "ADVISOR_DATA_DIR": str(data_dir),
        "ADVISOR_CORPUS_DIR": str(corpus_dir),
        "ADVISOR_DATABASE_URL": database_url,
        "ADVISOR_RATE_LIMIT": "10000/minute",
        "PYTHONUNBUFFERED": "1",
    })
    return env


class Server:
    """`python -m uvicorn bot.web.main:app` on a free port, ready when /readyz answers 200."""

    def __init__(self, root: Path, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = log_path
        self._log = log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bot.web.main:app", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=root, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                pytest.fail(f"the server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=5) as res:
                    if res.status == 200:
                        return
            except urllib.error.HTTPError as exc:
                last = f"{exc.code} {exc.read()[:300]!r}"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.5)
        self.stop()
        pytest.fail(f"the server was not ready within {timeout:.0f} s (last: {last}):\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-5000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
