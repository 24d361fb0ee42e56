"""`uvicorn bot.web.main:app`: the app built from the environment's Settings (what `advisor serve` runs)."""

from bot.config import get_settings
from bot.web.app import create_app

app = create_app(get_settings())
