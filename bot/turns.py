"""A conversation turn as the engine takes it as history: role and text, and the finder's state when it spoke.

The finder's question and the profile it showed travel as structured metadata on the assistant turn
(stored with the message, handed back with the history), so the next turn never has to recognise the
bot's own wording to know that the user is answering a question or correcting a profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.schema import Answer

# A turn is a plain dict (what JSON, the store and LangChain's message lists all take):
#   {"role": "user" | "assistant", "content": str, "finder"?: dict}
# where `finder`, on an assistant turn the finder wrote, is its FinderResult fields plus `expects_reply`.


def user_turn(question: str) -> dict[str, Any]:
    return {"role": "user", "content": question}


def assistant_turn(answer: Answer) -> dict[str, Any]:
    """What a later question sees of this answer: its text, and the finder's state when the finder spoke."""
    turn: dict[str, Any] = {"role": "assistant", "content": answer.answer}
    if answer.finder is not None:
        turn["finder"] = answer.finder
    return turn


def finder_state(turn: dict) -> dict | None:
    """The finder's state on an assistant turn (None on user turns and on ordinary answers)."""
    state = turn.get("finder") if turn.get("role") == "assistant" else None
    return state if isinstance(state, dict) else None


def asked_field(turn: dict) -> str | None:
    """The profile field the finder asked about in this turn (employees, region …), if it asked one."""
    state = finder_state(turn)
    field = state.get("question_field") if state else None
    return field if isinstance(field, str) and field else None


def finder_awaits_reply(history: Sequence[dict]) -> bool:
    """Did the last answer come from the finder, asking a question or showing a profile to correct?"""
    last = next((t for t in reversed(history) if t.get("role") == "assistant"), None)
    state = finder_state(last) if last else None
    return bool(state and state.get("expects_reply"))
