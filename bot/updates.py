"""Streamed answers for adapters that show one message and edit it (Slack's chat.update, a terminal line).

`message_updates(advisor.stream(question, history))` turns the engine's events into a few message states:
the text so far at most once per `interval` seconds (Slack allows about one update per second per message),
always once when the first text arrives, and a last one with the final Answer. The final Answer is
authoritative: after a provider failure its text replaces what was shown, and `answer.notice` says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from bot.schema import Answer, Citation, Event


@dataclass(frozen=True)
class Update:
    text: str  # the answer so far (with its [n] markers), or the status while there is no text yet
    citations: list[Citation] = field(default_factory=list)  # every marker in `text` has its citation here
    answer: Answer | None = None  # set on the last update only
    status: bool = False  # `text` is the engine's status, not answer text (no text has arrived yet)

    @property
    def final(self) -> bool:
        return self.answer is not None


def message_updates(events: Iterable[Event], interval: float = 1.0,
                    clock: Callable[[], float] = time.monotonic) -> Iterator[Update]:
    text, citations, last = "", [], None
    for event in events:
        if event.type == "done":
            assert event.answer is not None
            yield Update(event.answer.answer, list(event.answer.citations), event.answer)
            return
        if event.type == "citation" and event.citation is not None:
            citations.append(event.citation)
            continue
        if event.type == "status" and not text:
            yield Update(event.text, [], status=True)
            continue
        if event.type == "delta":
            text += event.text
            now = clock()
            if last is None or now - last >= interval:
                yield Update(text.rstrip("\n"), list(citations))
                last = now
