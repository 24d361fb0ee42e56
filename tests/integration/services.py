"""Where the real PostgreSQL and Redis servers are, for the tests that use them.

CI (.ci/run) sets ADVISOR_TEST_POSTGRES_URL and ADVISOR_TEST_REDIS_URL: then an unreachable server fails
the tests. Without them the tests try the usual local addresses and skip, saying why, when nothing answers.
"""

from __future__ import annotations

import os

import pytest

POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_DEFAULT = "redis://127.0.0.1:6379/0"


def service_url(env: str, default: str, reachable) -> str:
    """The URL to test against: the configured one must work; the default one may be absent (skip)."""
    configured = os.environ.get(env)
    url = configured or default
    error = reachable(url)
    if error is None:
        return url
    if configured:
        pytest.fail(f"{env}={configured} is set but unreachable: {error}")
    pytest.skip(f"no server at {default} ({error}); set {env} to run these tests")


def postgres_error(url: str) -> str | None:
    from sqlalchemy import create_engine

    try:
        with create_engine(url).connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return None
    except Exception as exc:  # any driver error means: not usable here
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def redis_error(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
