"""The jGrants public API (https://api.jgrants-portal.go.jp/exp/v1/public), politely.

Two endpoints, as the Digital Agency's own client and the API's OpenAPI document describe them:
`GET /subsidies` (keyword 2-255 characters without spaces, sort, order, acceptance; filters by purpose,
industry, employees, area; every match in one response, no paging) and `GET /subsidies/id/{id}` (one call
with its detail HTML and attachments as base64). Requests are spaced (`min_interval`), retried with
exponential backoff on timeouts, connection errors, 429 and 5xx, and fail with a JGrantsError that says what
went wrong, in Japanese and English.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from tenacity import RetryError, retry, retry_if_exception, stop_after_attempt, wait_exponential

BASE_URL = "https://api.jgrants-portal.go.jp/exp/v1/public"
PORTAL_URL = "https://www.jgrants-portal.go.jp/grants/view/{id}"
CREDIT = "Jグランツ（jGrants）からの出典"
SORTS = ("created_date", "acceptance_start_datetime", "acceptance_end_datetime")


class JGrantsError(RuntimeError):
    """The jGrants API could not be used (down, refusing, timing out, or answering something unexpected)."""


class _Retryable(Exception):
    """A failure worth another try: timeout, connection error, 429 or 5xx."""


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, _Retryable)


class JGrantsClient:
    def __init__(self, base_url: str = BASE_URL, timeout: float = 30.0, retries: int = 3, min_interval: float = 0.5,
                 backoff: float = 1.0, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = max(0, retries)
        self.min_interval = min_interval
        self.backoff = backoff
        self._http = httpx.Client(timeout=timeout, headers={"Accept": "application/json",
                                                            "User-Agent": "subsidy-advisor (jGrants sync)"},
                                  transport=transport)
        self._lock = threading.Lock()
        self._last = 0.0
        self.requests = 0  # requests sent (tries included): what a re-run proves it did not need

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> JGrantsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def search(self, keyword: str, *, acceptance: bool = False, sort: str = "acceptance_end_datetime",
               order: str = "ASC", **filters: str) -> list[dict[str, Any]]:
        """Calls matching a keyword (2-255 characters, no spaces), with optional filters (use_purpose,
        industry, target_number_of_employees, target_area_search)."""
        keyword = keyword.strip()
        if not 2 <= len(keyword) <= 255 or any(ch.isspace() for ch in keyword):
            raise JGrantsError(f"キーワードは空白なしの2〜255文字です (a jGrants keyword is 2-255 characters without "
                               f"spaces): {keyword!r}")
        if sort not in SORTS:
            raise JGrantsError(f"unknown sort {sort!r}; one of {', '.join(SORTS)}")
        params = {"keyword": keyword, "sort": sort, "order": order, "acceptance": "1" if acceptance else "0",
                  **{k: v for k, v in filters.items() if v}}
        return list(self._get("/subsidies", params).get("result") or [])

    def detail(self, subsidy_id: str) -> dict[str, Any]:
        """One call with its detail and attachments; JGrantsError when the API does not know the id."""
        result = self._get(f"/subsidies/id/{subsidy_id}", {}).get("result") or []
        if not result:
            raise JGrantsError(f"jGrants returned no call for id {subsidy_id}")
        return dict(result[0])

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        url = self.base_url + path

        @retry(retry=retry_if_exception(_is_retryable), stop=stop_after_attempt(self.retries + 1),
               wait=wait_exponential(multiplier=self.backoff, max=30), reraise=False)
        def attempt() -> httpx.Response:
            self._pace()
            self.requests += 1
            try:
                response = self._http.get(url, params=params)
            except httpx.TimeoutException as exc:
                raise _Retryable(f"timed out after {self._http.timeout.read}s") from exc
            except httpx.TransportError as exc:
                raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
            if response.status_code == 429 or response.status_code >= 500:
                raise _Retryable(f"HTTP {response.status_code}")
            return response

        try:
            response = attempt()
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            raise JGrantsError(f"jGrants APIに接続できません (the jGrants API failed {self.retries + 1} times on "
                               f"{path}: {cause}). しばらくしてから再実行してください; nothing was changed.") from exc
        if response.status_code == 404:
            raise JGrantsError(f"jGrants: not found ({path})")
        if response.status_code >= 400:
            raise JGrantsError(f"jGrants refused the request {path} ({response.status_code}): {response.text[:200]}")
        try:
            return response.json()
        except ValueError as exc:
            raise JGrantsError(f"jGrants answered {path} with something that is not JSON") from exc

    def _pace(self) -> None:
        """At most one request per `min_interval` seconds (the portal is a public service)."""
        with self._lock:
            wait = self._last + self.min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()
