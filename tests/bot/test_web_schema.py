"""Property-based run of the whole API against its own OpenAPI schema (schemathesis): no input makes a 500."""

from __future__ import annotations

import itertools

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from bot.web import create_app


def test_api_conforms_to_its_schema_and_never_fails_with_500(corpus_settings, advisor, tmp_path):
    app = create_app(corpus_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/web.db",
                                                        "rate_limit": "100000/minute"}),
                     advisor=advisor, warm_up=False)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/chat", "/api/chat/stream", "/api/sources/{file}",
                                              "/api/feedback", "/healthz", "/readyz"}
    for operation, mode in itertools.product(operations, GenerationMode):  # valid and invalid requests

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            case.call_and_validate()

        try:
            check()
        except Unsatisfiable:  # an operation without parameters has no invalid request to make
            assert mode is GenerationMode.NEGATIVE and not operation.body and not operation.query


def test_the_schema_and_the_engine_agree_on_a_blank_question():
    """What the schema calls a question (a character that is not blank, by ECMA regex as by Python's) is what
    the engine takes: U+0085 is blank to Python, U+FEFF to ECMA."""
    import re

    from bot.engine import _BLANK_RE
    from bot.web.api import NOT_BLANK

    for question in ["\x85", "\ufeff", "\x1c\x1f", " \u3000\t", "補助率は？", "a\x85"]:
        assert bool(re.search(NOT_BLANK, question)) == bool(_BLANK_RE.sub("", question)), repr(question)
