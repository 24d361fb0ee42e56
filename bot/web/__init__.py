"""The web adapter: FastAPI API, the chat page and its assets. Renders what the engine answers."""

from bot.web.app import create_app

__all__ = ["create_app"]
