"""HTTP mode: the Slack app served at /slack/events of the FastAPI app (events and button clicks both come here)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from slack_bolt import App
from slack_bolt.adapter.fastapi import SlackRequestHandler

from bot.config import Settings
from bot.engine import Advisor
from bot.slack.app import build_app
from bot.storage import Store


def mount(web_app: FastAPI, settings: Settings, advisor: Advisor, store: Store) -> App:
    """Add POST /slack/events; Bolt checks the signature (401 when it is wrong) before anything else runs."""
    bolt_app = build_app(settings, advisor, store)
    handler = SlackRequestHandler(bolt_app)

    @web_app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        try:
            return await handler.handle(request)
        except ValueError:  # Bolt parses the body before checking it: unreadable JSON is the sender's error
            return JSONResponse({"error": "invalid request body"}, status_code=400)

    web_app.state.slack = bolt_app
    return bolt_app
