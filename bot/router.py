"""Which handler answers a question: one table from an Understanding to an ordered list of routes.

A route may decline (a catalogue list whose filters leave fewer rows than a table needs); the engine then
takes the next. The last route always answers: passages, or the refusal of an out-of-scope question.
"""

from __future__ import annotations

from typing import Literal

from bot.understanding import Understanding

Route = Literal["catalogue", "catalogue+passages", "finder", "passages", "out_of_scope"]


def routes(u: Understanding) -> tuple[Route, ...]:
    """Catalogue table first (with passages after it when the question asks beyond its fields), then the
    finder, then passages; a question the documents cannot speak to ends in a refusal instead."""
    order: list[Route] = []
    if u.catalogue is not None:
        order.append("catalogue+passages" if u.needs_passages else "catalogue")
    if u.finder:
        order.append("finder")
    order.append("passages" if u.in_scope else "out_of_scope")
    return tuple(order)
