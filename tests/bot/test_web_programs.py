"""GET /api/programs and the /programs page: the catalogue over HTTP, every field cited."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from bot.web import create_app
from tests.bot.test_cli import check_shapes


@pytest.fixture(scope="module")
def client(corpus_settings, advisor, tmp_path_factory):
    db = tmp_path_factory.mktemp("web-programs") / "web.db"
    settings = corpus_settings.model_copy(update={"database_url": f"sqlite:///{db}", "rate_limit": "1000/minute"})
    with TestClient(create_app(settings, advisor=advisor, warm_up=False)) as c:
        yield c


def test_api_programs_lists_the_catalogue_with_citations(client):
    r = client.get("/api/programs")
    assert r.status_code == 200
    data = r.json()
    assert len(data) >= 100
    gotech = next(p for p in data if "Go-Tech" in p["nicknames"] and p["fields"]["budget"]["source"].startswith("004"))
    assert gotech["fields"]["budget"]["value"] == "令和6年度予算額 128億円（133億円）"
    assert gotech["heading"]["start_line"] >= 1 and gotech["reviewed"] is True
    sub = next(p for p in data if p["parent"] == "中小企業生産性革命推進事業")
    assert sub["name"]
    public = [{k: p[k] for k in ("name", "nicknames", "fields")} for p in data]
    check_shapes("programs", json.dumps(public, ensure_ascii=False))
    # each cited cell opens in the source viewer
    cell = gotech["fields"]["rate"]
    src = client.get(f"/api/sources/{cell['source']}", params={"start": cell["start_line"], "end": cell["end_line"]})
    assert src.status_code == 200
    assert any(line["cited"] and "2/3" in line["text"] for line in src.json()["lines"])


def test_programs_page_is_served_without_inline_script(client):
    r = client.get("/programs")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert '<script src="/static/programs.js" defer></script>' in r.text and "<script>" not in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/static/programs.js").status_code == 200
