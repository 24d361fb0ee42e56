"""The rate limit kept in a real Redis server: one count per client across web app instances."""

from __future__ import annotations

import random

import pytest
from fastapi.testclient import TestClient

from bot.web import create_app
from bot.web.guards import RateLimiter
from tests.integration.services import REDIS_DEFAULT, redis_error, service_url

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def redis_url():
    return service_url("ADVISOR_TEST_REDIS_URL", REDIS_DEFAULT, redis_error)


def a_client_address() -> tuple[str, int]:
    """A fresh address per run, so counts left in Redis by an earlier run do not interfere."""
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}", 50000


def test_limiter_counts_in_redis(redis_url):
    limiter = RateLimiter("2/minute", redis_url)
    assert limiter.reachable()
    key = a_client_address()[0]
    assert [limiter.check(key) for _ in range(3)][:2] == [0, 0]
    assert RateLimiter("2/minute", redis_url).check(key) >= 1  # a second instance sees the same count


def test_two_web_instances_share_one_limit(redis_url, corpus_settings, advisor, tmp_path):
    settings = corpus_settings.model_copy(update={"rate_limit": "3/minute", "rate_limit_storage": redis_url,
                                                  "database_url": f"sqlite:///{tmp_path}/w.db"})
    client = a_client_address()
    with TestClient(create_app(settings, advisor=advisor, warm_up=False), client=client) as a, \
            TestClient(create_app(settings, advisor=advisor, warm_up=False), client=client) as b:
        codes = [c.post("/api/chat", json={"question": "IT導入補助金の補助率は？"}).status_code for c in (a, b, a, b)]
        assert codes == [200, 200, 200, 429]
        assert a.get("/readyz").json()["checks"]["rate_limit_store"] is True


def test_unreachable_redis_makes_the_app_not_ready(corpus_settings, advisor, tmp_path):
    settings = corpus_settings.model_copy(update={"rate_limit_storage": "redis://127.0.0.1:9/0",
                                                  "database_url": f"sqlite:///{tmp_path}/w.db"})
    with TestClient(create_app(settings, advisor=advisor, warm_up=False)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["rate_limit_store"] is False
        assert c.post("/api/chat", json={"question": "IT導入補助金の補助率は？"}).status_code == 200  # fails open
