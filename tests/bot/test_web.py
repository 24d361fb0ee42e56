"""The HTTP API over the real engine and index: answers, streaming, sessions, sources, feedback, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.storage import Store
from bot.web import create_app
from tests.conftest import CHECK_SHAPES, CORPUS, ROOT

SAPOIN = "サポイン事業の補助上限額は？"


@pytest.fixture(scope="module")
def web_settings(corpus_settings, tmp_path_factory) -> Settings:
    db = tmp_path_factory.mktemp("web") / "web.db"
    return corpus_settings.model_copy(update={"database_url": f"sqlite:///{db}", "rate_limit": "1000/minute"})


@pytest.fixture(scope="module")
def client(web_settings, advisor) -> TestClient:
    with TestClient(create_app(web_settings, advisor=advisor)) as c:
        yield c


def sse_events(body: str) -> list[tuple[str, dict]]:
    """Parse a text/event-stream body into (event, data) pairs, as a browser would."""
    events = []
    for block in body.strip().split("\n\n"):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def check_shape(obj: dict, tmp_path) -> None:
    if not CHECK_SHAPES.exists():
        pytest.skip(f"{CHECK_SHAPES} is not beside this checkout")
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    out = subprocess.run([sys.executable, str(CHECK_SHAPES), "ask", str(path)], capture_output=True, text=True,
                         env={"CORPUS_DIR": str(CORPUS)})
    assert out.returncode == 0, out.stdout + out.stderr


def test_chat_answers_in_the_ask_shape_with_a_session(client, tmp_path):
    r = client.post("/api/chat", json={"question": SAPOIN})
    assert r.status_code == 200
    body = r.json()
    assert not body["refused"] and "4,500万円" in body["answer"]
    assert len(body["session_id"]) == 32 and len(body["message_id"]) == 32
    check_shape(body, tmp_path)


def test_follow_up_uses_the_server_side_history(client, advisor):
    first = client.post("/api/chat", json={"question": SAPOIN}).json()
    follow = client.post("/api/chat", json={"question": "その補助率は？", "session_id": first["session_id"]}).json()
    assert follow["session_id"] == first["session_id"]
    expected = advisor.ask("その補助率は？", history=[{"role": "user", "content": SAPOIN},
                                                    {"role": "assistant", "content": first["answer"]}])
    assert follow["answer"] == expected.answer
    alone = client.post("/api/chat", json={"question": "その補助率は？"}).json()
    assert alone["session_id"] != first["session_id"]
    assert alone["answer"] != follow["answer"]


def test_a_finder_conversation_continues_across_requests_through_the_stored_turn_state(client):
    first = client.post("/api/chat", json={"question": "自分に合う補助金を探したい"}).json()
    assert first["finder"]["question_field"] == "goals"
    reply = client.post("/api/chat", json={"question": "わからない", "session_id": first["session_id"]}).json()
    assert reply["finder"] is not None and "goals" in reply["finder"]["profile"]["unknown"]
    alone = client.post("/api/chat", json={"question": "わからない"}).json()
    assert alone["finder"] is None


def test_unknown_session_id_starts_a_new_conversation(client):
    body = client.post("/api/chat", json={"question": SAPOIN, "session_id": "0" * 32}).json()
    assert body["session_id"] == "0" * 32  # kept, as a new conversation (its first answer has no history)
    assert body["answer"] == client.post("/api/chat", json={"question": SAPOIN}).json()["answer"]
    again = client.post("/api/chat", json={"question": "その補助率は？", "session_id": body["session_id"]}).json()
    assert again["session_id"] == body["session_id"]


def test_stream_sends_deltas_citations_and_the_final_answer(client):
    with client.stream("POST", "/api/chat/stream", json={"question": SAPOIN}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r.read().decode("utf-8"))
    names = [name for name, _ in events]
    assert names[0] == "session" and names[-1] == "done"
    assert "delta" in names and "citation" in names
    done = events[-1][1]
    text = "".join(data["text"] for name, data in events if name == "delta")
    assert text.rstrip("\n") == done["answer"]
    assert [d["n"] for name, d in events if name == "citation"] == [c["n"] for c in done["citations"]]
    assert done["session_id"] == events[0][1]["session_id"] and done["message_id"]


def test_stream_rejects_bad_questions_before_streaming(client):
    r = client.post("/api/chat/stream", json={"question": "   "})
    assert r.status_code == 422 and "空" in r.json()["detail"]


@pytest.mark.parametrize("payload, status, words", [
    ({"question": ""}, 422, "空"),
    ({"question": "補" * 2001}, 422, "2000文字以内"),
    ({}, 422, "question"),
    ({"question": 5}, 422, "question"),
    ({"question": SAPOIN, "session_id": "../../etc"}, 422, "session_id"),
    ([1, 2], 422, "Invalid input"),
])
def test_bad_questions_get_422_with_a_readable_message(client, payload, status, words):
    r = client.post("/api/chat", json=payload)
    assert r.status_code == status
    assert words in r.json()["detail"]


def test_malformed_json_gets_400(client):
    r = client.post("/api/chat", content=b'{"question": ', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert "JSON" in r.json()["detail"]


def test_sources_returns_the_cited_lines_with_context(client):
    answer = client.post("/api/chat", json={"question": SAPOIN}).json()
    c = answer["citations"][0]
    r = client.get(f"/api/sources/{c['source']}", params={"start": c["start_line"], "end": c["end_line"]})
    assert r.status_code == 200
    body = r.json()
    cited = [line for line in body["lines"] if line["cited"]]
    assert [line["n"] for line in cited] == list(range(c["start_line"], c["end_line"] + 1))
    assert "".join(line["text"] for line in cited).replace(" ", "")[:20] in c["text"].replace("\n", "").replace(" ", "") \
        or c["text"].splitlines()[0][:15] in "\n".join(line["text"] for line in cited)
    assert body["lines"][0]["n"] < c["start_line"] or c["start_line"] == 1
    assert body["title"] == c["title"]


@pytest.mark.parametrize("path", [
    "/api/sources/nothing.txt?start=1&end=2",
    "/api/sources/..%2Fpyproject.toml?start=1&end=2",
    "/api/sources/%2Fetc%2Fpasswd?start=1&end=2",
    "/api/sources/manifest.yaml?start=1&end=2",
    "/api/sources/001_5727ac24c4ad27bb.txt?start=5&end=2",
    "/api/sources/001_5727ac24c4ad27bb.txt?start=1&end=999999",
])
def test_sources_outside_the_corpus_are_404(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert "root:" not in r.text and "[project]" not in r.text


def test_sources_with_bad_parameters_are_422(client):
    assert client.get("/api/sources/001_5727ac24c4ad27bb.txt?start=x&end=2").status_code == 422
    assert client.get("/api/sources/001_5727ac24c4ad27bb.txt").status_code == 422


def test_feedback_is_stored_and_exported_as_draft_eval_items(client, web_settings, tmp_path):
    answer = client.post("/api/chat", json={"question": "IT導入補助金の補助率は？"}).json()
    r = client.post("/api/feedback", json={"message_id": answer["message_id"], "rating": "down",
                                           "comment": "補助上限も知りたい"})
    assert r.status_code == 200 and r.json()["feedback_id"]
    assert client.post("/api/feedback", json={"message_id": "f" * 32, "rating": "up"}).status_code == 404
    assert client.post("/api/feedback", json={"message_id": answer["message_id"], "rating": "meh"}).status_code == 422

    env = {"ADVISOR_DATABASE_URL": web_settings.database_url, "ADVISOR_DATA_DIR": str(web_settings.data_dir),
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "bot.cli", "feedback", "export"], capture_output=True, text=True,
                         env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    drafts = [json.loads(line) for line in out.stdout.splitlines()]
    mine = [d for d in drafts if d["draft"]["comment"] == "補助上限も知りたい"]
    assert len(mine) == 1
    assert mine[0]["question"] == "IT導入補助金の補助率は？"
    assert mine[0]["draft"]["bot_answer"] == answer["answer"]
    assert {"id", "question", "persona", "history", "answer", "must_include", "source", "evidence", "type",
            "difficulty"} <= mine[0].keys()


def test_rate_limit_answers_429_with_retry_after(web_settings, advisor):
    settings = web_settings.model_copy(update={"rate_limit": "2/minute"})
    with TestClient(create_app(settings, advisor=advisor, warm_up=False)) as c:
        codes = [c.post("/api/chat", json={"question": SAPOIN}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        r = c.post("/api/chat/stream", json={"question": SAPOIN})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "リクエストが多すぎます" in r.json()["detail"]
        assert c.get("/healthz").status_code == 200  # reading is not limited


def test_security_headers_and_closed_cors(client):
    for path in ["/", "/api/sources/nothing.txt?start=1&end=1", "/healthz"]:
        r = client.get(path, headers={"Origin": "https://evil.example"})
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "access-control-allow-origin" not in r.headers
    pre = client.options("/api/chat", headers={"Origin": "https://evil.example",
                                                "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in pre.headers


def test_cors_opens_only_to_configured_origins(web_settings, advisor):
    settings = web_settings.model_copy(update={"cors_origins": ["https://yorozu.example"]})
    with TestClient(create_app(settings, advisor=advisor, warm_up=False)) as c:
        ok = c.get("/healthz", headers={"Origin": "https://yorozu.example"})
        assert ok.headers["access-control-allow-origin"] == "https://yorozu.example"
        assert "access-control-allow-origin" not in c.get("/healthz", headers={"Origin": "https://x.example"}).headers


def test_page_and_docs_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text
    assert "'sha256-" in docs.headers["content-security-policy"]
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/chat", "/api/chat/stream", "/api/sources/{file}", "/api/feedback", "/healthz", "/readyz"} <= set(paths)


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"index": True, "database": True, "rate_limit_store": True}


def test_not_ready_without_an_index_and_questions_get_503(tmp_path):
    settings = Settings(corpus_dir=CORPUS, data_dir=tmp_path / "empty", database_url=f"sqlite:///{tmp_path}/w.db")
    with TestClient(create_app(settings, warm_up=False)) as c:
        assert c.get("/healthz").status_code == 200
        ready = c.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["index"] is False
        r = c.post("/api/chat", json={"question": SAPOIN})
        assert r.status_code == 503 and "advisor index" in r.json()["detail"]


def test_readiness_fails_when_the_chroma_server_is_down(corpus_settings, tmp_path):
    settings = corpus_settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": 9,
                                                  "database_url": f"sqlite:///{tmp_path}/w.db"})
    with TestClient(create_app(settings, warm_up=False)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["index"] is False
        chat = c.post("/api/chat", json={"question": SAPOIN})
        assert chat.status_code == 503 and "unreachable" in chat.json()["detail"]


def test_concurrent_questions_get_the_same_answers_as_sequential_ones(advisor):
    questions = [SAPOIN, "IT導入補助金の補助率は？", "事業承継の相談窓口は？", "Go-Techの補助上限は？",
                 "町工場が大学と共同研究するときの支援は？", "ものづくり補助金の補助率は？",
                 "持続化補助金の上限額は？", "中小企業の賃上げ支援は？"]
    sequential = [advisor.ask(q).answer for q in questions]
    with ThreadPoolExecutor(8) as pool:
        concurrent = list(pool.map(lambda q: advisor.ask(q).answer, questions * 2))
    assert concurrent == sequential * 2


def test_storage_keeps_citations_of_each_answer(web_settings, client):
    answer = client.post("/api/chat", json={"question": SAPOIN}).json()
    stored = Store(web_settings.database_url).citations(answer["message_id"])
    assert [c.model_dump() for c in stored] == answer["citations"]


def test_answers_over_http_to_concurrent_new_questions_are_the_engine_answers(corpus_settings, tmp_path):
    """The web path and the batched query embeddings (query cache off, so every question is embedded, and
    8 at once) change nothing of an answer: text, refusal and citations are those `advisor.ask` gives alone."""
    from bot.engine import Advisor

    settings = corpus_settings.model_copy(update={"query_cache_size": 0, "rate_limit": "1000/minute",
                                                  "database_url": f"sqlite:///{tmp_path}/load.db"})
    engine = Advisor(settings)
    questions = [SAPOIN, "IT導入補助金の補助率は？", "事業承継の相談窓口は？", "Go-Techの補助上限は？",
                 "町工場が大学と共同研究するときの支援は？", "ものづくり補助金の補助率は？",
                 "持続化補助金の上限額は？", "中小企業の賃上げ支援は？", "宇宙ビジネスの支援はありますか"]
    fields = ("answer", "refused", "citations")
    alone = {q: engine.ask(q).model_dump(include=set(fields)) for q in questions}
    with TestClient(create_app(settings, advisor=engine)) as c, ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda q: c.post("/api/chat", json={"question": q}).json(), questions * 3))
    for question, body in zip(questions * 3, bodies, strict=True):
        assert {k: body[k] for k in fields} == alone[question], question
