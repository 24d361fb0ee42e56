"""Conversations and feedback in a real PostgreSQL server, shared by two web app instances."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from bot.schema import Answer, Citation
from bot.storage import Store, UnknownMessageError
from bot.web import create_app
from tests.integration.services import POSTGRES_DEFAULT, postgres_error, service_url

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_url():
    """A fresh schema of the test database for this module, dropped afterwards."""
    base = service_url("ADVISOR_TEST_POSTGRES_URL", POSTGRES_DEFAULT, postgres_error)
    schema = f"advisor_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


def test_store_round_trip_on_postgres(pg_url):
    store = Store(pg_url)
    assert store.engine.dialect.name == "postgresql" and store.ping()
    conv = store.conversation(None)
    citation = Citation(n=1, source="a.txt", title="A", section="s", start_line=3, end_line=4, text="補助率は2/3")
    answer = Answer(answer="補助率は2/3です。[1]", refused=False, citations=[citation])
    first = store.record(conv, "補助率は？", answer)
    store.record(conv, "上限は？", Answer(answer="資料からは確認できませんでした。", refused=True))
    assert store.history(conv) == [
        {"role": "user", "content": "補助率は？"}, {"role": "assistant", "content": "補助率は2/3です。[1]"},
        {"role": "user", "content": "上限は？"}, {"role": "assistant", "content": "資料からは確認できませんでした。"},
    ]
    assert store.history(conv, turns=1)[0]["content"] == "上限は？"
    assert store.citations(first) == [citation]
    store.add_feedback(first, "down", "古い情報")
    with pytest.raises(UnknownMessageError):
        store.add_feedback(uuid.uuid4().hex, "up")
    [exchange] = [e for e in store.rated("down") if e.message_id == first]
    assert exchange.question == "補助率は？" and exchange.comment == "古い情報" and exchange.history == []


def test_two_web_instances_share_sessions_through_postgres(pg_url, corpus_settings, advisor):
    settings = corpus_settings.model_copy(update={"database_url": pg_url, "rate_limit": "1000/minute"})
    with TestClient(create_app(settings, advisor=advisor, warm_up=False)) as a, \
            TestClient(create_app(settings, advisor=advisor, warm_up=False)) as b:
        first = a.post("/api/chat", json={"question": "サポイン事業の補助上限額は？"}).json()
        follow = b.post("/api/chat", json={"question": "その補助率は？", "session_id": first["session_id"]}).json()
        expected = advisor.ask("その補助率は？", history=[{"role": "user", "content": "サポイン事業の補助上限額は？"},
                                                        {"role": "assistant", "content": first["answer"]}])
        assert follow["answer"] == expected.answer
        assert b.post("/api/feedback", json={"message_id": first["message_id"], "rating": "up"}).status_code == 200
        assert a.get("/readyz").json()["checks"]["database"] is True
