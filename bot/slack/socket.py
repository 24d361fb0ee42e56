"""`advisor slack`: the Slack app over Socket Mode, for workspaces where the advisor has no public URL."""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.error import BoltError

from bot.config import Settings
from bot.engine import Advisor
from bot.slack.app import SlackConfigError, build_app
from bot.storage import Store

log = logging.getLogger("advisor.slack")


def run_socket_mode(settings: Settings) -> None:
    """Connect to Slack with the app-level token and answer until interrupted."""
    socket_handler(settings).start()


def socket_handler(settings: Settings, advisor: Advisor | None = None, store: Store | None = None
                   ) -> SocketModeHandler:
    """The Socket Mode handler of the Bolt app, tokens checked and the index loaded, not yet connected.

    The tokens are checked before the index loads, so a missing or wrong token fails in a second with the
    variable to set rather than after the models have loaded.
    """
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    bot_token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    missing = [name for name, value in (("SLACK_APP_TOKEN", app_token), ("SLACK_BOT_TOKEN", bot_token)) if not value]
    if missing:
        raise SlackConfigError(
            f"{' と '.join(missing)} が設定されていません。Socket Mode には app-level token (xapp-…, scope "
            f"connections:write) と bot token (xoxb-…) が必要です (set {', '.join(missing)}).")
    if not app_token.startswith("xapp-"):
        raise SlackConfigError("SLACK_APP_TOKEN は xapp- で始まる app-level token です "
                               "(Basic Information → App-Level Tokens, scope connections:write).")
    if not bot_token.startswith("xoxb-"):
        raise SlackConfigError("SLACK_BOT_TOKEN は xoxb- で始まる bot token です (OAuth & Permissions).")
    store = store or Store(settings.database)
    advisor = advisor or Advisor(settings)
    try:
        app = build_app(settings, advisor, store, socket_mode=True, token_verification=True)
    except BoltError as exc:
        raise SlackConfigError(f"Slack がトークンを受け付けませんでした (auth.test failed): {exc}") from exc
    except OSError as exc:
        raise SlackConfigError(f"Slack に接続できません ({settings.slack_api_url}): {exc}") from exc
    advisor.warm_up()
    return SocketModeHandler(app, app_token)
