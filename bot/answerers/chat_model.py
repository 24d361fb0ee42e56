"""One chat model shared by the parts that ask it (the LLM answerer, the finder): built on first use, never
at import; after a provider failure it is left alone for `cooldown` seconds, so that an outage costs users
one timeout, not one per request; failures are logged with every key redacted."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("advisor.llm")


def failure_kind(exc: BaseException) -> str:
    """timeout, rate_limit, config or error: what a notice tells the user."""
    from bot.answerers.llm_provider import LLMConfigError

    if isinstance(exc, LLMConfigError | ImportError):
        return "config"
    name = " ".join(c.__name__ for c in type(exc).__mro__).lower()
    if "timeout" in name or isinstance(exc, TimeoutError):
        return "timeout"
    if "ratelimit" in name or "resourceexhausted" in name or getattr(exc, "status_code", None) == 429:
        return "rate_limit"
    return "error"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """An error message safe to log: the configured keys and anything shaped like a key replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return re.sub(r"\b(sk|key|token)-[A-Za-z0-9_\-]{6,}", r"\1-***", text)


def message_text(message: Any) -> str:
    """The text of an AIMessage or chunk (content blocks of some providers flattened)."""
    text = getattr(message, "text", None)
    if isinstance(text, str):
        return text
    content = getattr(message, "content", message)
    return content if isinstance(content, str) else ""


class ChatModel:
    """A LangChain chat model (given, or made by `factory` on first use) with its failure cooldown."""

    def __init__(self, model: Any = None, *, factory: Callable[[], Any] | None = None, cooldown: float = 0.0,
                 secrets: Iterable[str] = ()) -> None:
        if model is None and factory is None:
            raise ValueError("a chat model or a factory that makes one is needed")
        self._model = model
        self._factory = factory
        self.cooldown = cooldown
        self._secrets = [s for s in secrets if s]
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    @property
    def model(self):
        """The chat model, built on first use (a configuration error surfaces here, as a failure)."""
        with self._lock:
            if self._model is None:
                assert self._factory is not None
                self._model = self._factory()
            return self._model

    def cooling(self) -> bool:
        """Did the provider fail less than `cooldown` seconds ago?"""
        return bool(self.cooldown and self._failed_at is not None
                    and time.monotonic() - self._failed_at < self.cooldown)

    def failed(self, exc: BaseException, stage: str, then: str) -> str:
        """Log a provider failure (keys redacted), start the cooldown, and say what kind it was."""
        kind = failure_kind(exc)
        log.warning("LLM %s failed (%s, %s: %s); %s", stage, kind, type(exc).__name__,
                    redact(str(exc), self._secrets)[:300], then)
        self._failed_at = time.monotonic()
        return kind
