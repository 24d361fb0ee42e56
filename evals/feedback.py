"""Thumbs-down answers from the web and Slack, as draft items of the eval dataset format.

A maintainer opens the draft, writes the reference `answer`, `must_include`, `source` and `evidence`,
deletes the `draft` notes, and the real failure becomes a test case.
"""

from __future__ import annotations

from bot.storage import Exchange


def draft_item(ex: Exchange) -> dict:
    """The dataset fields (to be completed by hand) plus `draft`: what the user saw and said."""
    return {
        "id": f"feedback-{ex.message_id[:12]}",
        "question": ex.question,
        "persona": "sme",
        "history": ex.history,
        "answer": "",
        "must_include": [],
        "source": None,
        "evidence": [],
        "type": "followup" if ex.history else "fact",
        "difficulty": "medium",
        "draft": {
            "rating": ex.rating,
            "comment": ex.comment,
            "bot_answer": ex.answer,
            "bot_refused": ex.refused,
            "bot_cited": [f"{c['source']}:{c['start_line']}-{c['end_line']}" for c in ex.citations],
        },
    }
