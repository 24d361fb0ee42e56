"""HTTP mode: the Slack app served at /slack/events of the FastAPI app (events and button clicks both come here)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool

from bot.config import Settings
from bot.engine import Advisor
from bot.slack.app import build_app
from bot.storage import Store


def mount(web_app: FastAPI, settings: Settings, advisor: Advisor, store: Store) -> App:
    """Add POST /slack/events. Bolt checks the signature (401 when it is wrong) before anything else runs.

    This is what slack_bolt.adapter.fastapi.SlackRequestHandler does for POST requests, except that Bolt's
    synchronous dispatch (the event claim in the database, the first auth.test) runs in the thread pool
    rather than on the event loop, where it would hold up every streamed web answer meanwhile.
    """
    bolt_app = build_app(settings, advisor, store)

    @web_app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        try:
            bolt_request = to_bolt_request(request, body)
        except ValueError:  # Bolt parses the body before checking it: unreadable JSON is the sender's error
            return JSONResponse({"error": "invalid request body"}, status_code=400)
        return to_starlette_response(await run_in_threadpool(bolt_app.dispatch, bolt_request))

    web_app.state.slack = bolt_app
    return bolt_app
