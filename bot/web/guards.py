"""What stands between the internet and the engine: per-client rate limits and security headers.

The rate limit uses the `limits` library, in process memory by default or in Redis
(`ADVISOR_RATE_LIMIT_STORAGE=redis://…`) so that several workers share one count per client.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import time

from limits import parse_many, storage, strategies
from limits.errors import ConfigurationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("advisor.web")


class RateLimitConfigError(ValueError):
    pass


class RateLimiter:
    """Moving-window limits per client key; `check` answers how long to wait, 0 when the request may pass."""

    def __init__(self, spec: str, storage_url: str = "memory://") -> None:
        try:
            self.items = parse_many(spec) if spec.strip() else []
            self._storage = storage.storage_from_string(storage_url)
        except (ValueError, ConfigurationError) as exc:
            raise RateLimitConfigError(f"bad rate limit setting {spec!r} / {storage_url!r}: {exc}") from exc
        self._limiter = strategies.MovingWindowRateLimiter(self._storage)

    def check(self, key: str) -> float:
        """Count one request for `key`; seconds until it may retry when a limit is exceeded, else 0.

        When the limit store (Redis) is down, requests pass and the failure is logged: a down counter must
        not take the advisor down with it (/readyz reports it).
        """
        try:
            for item in self.items:
                if not self._limiter.hit(item, "advisor", key):
                    reset, _ = self._limiter.get_window_stats(item, "advisor", key)
                    return max(1.0, math.ceil(reset - time.time()))
        except Exception as exc:  # redis raises assorted connection errors
            log.warning("rate limit store unavailable, request allowed: %s", type(exc).__name__)
        return 0.0

    def reachable(self) -> bool:
        try:
            return bool(self._storage.check())
        except Exception:  # redis raises assorted connection errors
            return False


# No inline script or style anywhere: the page's script and styles are files under /static.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def script_hash(script: str) -> str:
    """A CSP source that allows exactly this inline script (the API docs page needs one)."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()

    return f"'sha256-{base64.b64encode(digest).decode()}'"


class SecurityHeaders:
    """Adds the security headers to every response (pure ASGI, so streaming responses pass untouched)."""

    def __init__(self, app: ASGIApp, csp: str = CSP) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in self.headers if k not in present
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
