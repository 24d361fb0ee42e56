"""Routes: which handlers may answer a question, in which order, from what was understood of it."""

import pytest

from bot.catalogue_answers import Request
from bot.router import routes
from bot.understanding import Understanding
from retrieval.search import Query

COMPARISON = Request("comparison", [[], []], ("rate",), {})
LISTING = Request("list", [], ("kind",), {"kind": "基金"})


def understood(catalogue=None, needs_passages=False, finder=False, finder_reply=False, in_scope=True):
    return Understanding(question="q", history=(), text="q", tokens=(), programs=(), aspects=frozenset(), parts=(),
                         followup=False, query=Query("q"), catalogue=catalogue, needs_passages=needs_passages,
                         finder=finder, finder_reply=finder_reply, in_scope=in_scope)


@pytest.mark.parametrize(("flags", "intent", "expected"), [
    ({}, "fact", ("passages",)),
    ({"in_scope": False}, "out_of_scope", ("out_of_scope",)),
    ({"catalogue": COMPARISON}, "comparison", ("catalogue", "passages")),
    ({"catalogue": COMPARISON, "needs_passages": True}, "comparison", ("catalogue+passages", "passages")),
    ({"catalogue": LISTING}, "list", ("catalogue", "passages")),
    ({"catalogue": LISTING, "finder": True}, "list", ("catalogue", "finder", "passages")),
    ({"finder": True}, "find", ("finder", "passages")),
    ({"finder": True, "finder_reply": True}, "finder_reply", ("finder", "passages")),
    ({"finder": True, "in_scope": False}, "find", ("finder", "out_of_scope")),
    ({"catalogue": LISTING, "in_scope": False}, "list", ("catalogue", "out_of_scope")),
])
def test_routes_follow_the_understanding(flags, intent, expected):
    u = understood(**flags)
    assert u.intent == intent
    assert routes(u) == expected


def test_the_understanding_reads_a_question_once_for_every_handler(advisor):
    u = advisor.understander.read("ものづくり補助金とサポイン事業の補助率を並べて")
    assert u.intent == "comparison" and "rate" in u.catalogue.columns
    fact = advisor.understander.read("サポイン事業の補助上限額と補助期間は？")
    assert fact.intent == "fact" and fact.in_scope and {"amount", "period"} <= fact.aspects
    assert fact.text == "サポイン事業の補助上限額と補助期間は?" and "サポイン" in "".join(fact.tokens)  # NFKC for matching
    assert advisor.understander.read("明日の大阪の天気を教えて").intent == "out_of_scope"
    assert advisor.understander.read("パン屋をやっています。うちに合う補助金を探しています").intent == "find"
