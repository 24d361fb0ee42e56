"""The Slack adapter (slack-bolt): Slack events → Advisor → Block Kit replies; button clicks → Store feedback.

The same engine and store as the web app: a Slack thread is a stored conversation (channel "slack"), each
answer is recorded with Store.record, and 👍/👎 go through Store.add_feedback, so `advisor feedback export`
sees Slack feedback too. Every listener acks at once and answers in a lazy listener thread, because Slack
resends an event it has not seen acknowledged within 3 seconds; and every event id is claimed in the
store before any listener runs, so a resent event is answered once, whichever instance receives it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable

from slack_bolt import App, BoltResponse
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.engine import Advisor, QuestionError
from bot.schema import Answer
from bot.slack.blocks import (
    ACTION_DOWN,
    ACTION_SOURCES,
    ACTION_UP,
    MESSAGE_CHARS,
    THANKS,
    SlackMessage,
    answer_tail,
    escape,
    notice,
    question_text,
    render_answer,
    render_sources,
)
from bot.storage import Store, UnknownMessageError
from bot.updates import message_updates
from retrieval.index import PassageIndexError

log = logging.getLogger("advisor.slack")

# What the app subscribes to and needs; bot/slack/manifest*.yaml must say exactly this (a test checks it).
MANIFEST_EVENTS = ("app_mention", "message.im", "message.channels", "message.groups", "app_home_opened")
LEGACY_EVENTS = ("assistant_thread_started",)  # sent only to apps still on the legacy assistant_view
BOT_SCOPES = (
    "app_mentions:read",  # app_mention
    "assistant:write",  # assistant.threads.setStatus / setSuggestedPrompts
    "channels:history",  # message.channels: follow-ups in a public channel thread the bot answers in
    "groups:history",  # message.groups: the same in private channels
    "chat:write",  # chat.postMessage, chat.postEphemeral, chat.update, chat.startStream/appendStream/stopStream
    "im:history",  # message.im: direct messages
)
# The listeners build_app registers (event type or action id → SlackAdvisor method); message.im,
# message.channels and message.groups all arrive as `message`.
EVENT_LISTENERS = {"app_mention": "on_mention", "message": "on_message", "app_home_opened": "on_home_opened",
                   "assistant_thread_started": "on_thread_started"}
ACTION_LISTENERS = {ACTION_UP: "on_feedback", ACTION_DOWN: "on_feedback", ACTION_SOURCES: "on_sources"}

STATUS = "資料を確認しています…"
PROMPTS_TITLE = "補助金・支援事業について、登録資料から出典つきで答えます。"
SUGGESTED_PROMPTS = [
    {"title": "サポイン事業の上限額", "message": "サポイン事業の補助上限額と補助率は？"},
    {"title": "IT導入補助金", "message": "IT導入補助金の補助率は？"},
    {"title": "事業承継の相談先", "message": "事業承継の相談窓口は？"},
    {"title": "大学との共同研究", "message": "町工場が大学と共同研究するときの支援は？"},
]
NOT_HERE = "このチャンネルでは補助金アドバイザーは利用できません。管理者にお問い合わせください。"
INDEX_DOWN = "資料の索引が利用できません。しばらくしてからもう一度お試しください。"
FAILED = "回答の作成中にエラーが発生しました。もう一度お試しください。"
UNKNOWN_ANSWER = "その回答は見つかりませんでした。"
_MESSAGE_ID = re.compile(r"^[0-9a-f]{32}$")


class _Sent:
    """How many messages of one answer reached the thread (0: a resend of the event may still answer it)."""

    def __init__(self) -> None:
        self.count = 0


def _markdown(text: str) -> str:
    """Answer text for chat.*Stream's markdown_text: Slack's control characters escaped, each line ended with
    a hard line break (markdown would run the sentences together)."""
    return escape(text).replace("\n", "  \n")


class SlackConfigError(RuntimeError):
    """Slack settings missing or rejected; the message names the environment variable to set."""


def conversation_id(team: str | None, channel: str, thread_ts: str) -> str:
    """The stored conversation of a Slack thread: the same thread gives the same id on every instance."""
    key = f"slack:{team or '-'}:{channel}:{thread_ts}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _secret(value) -> str:
    return value.get_secret_value() if value is not None else ""


class OncePerEvent(Middleware):
    """Claims each event id in the store before any listener runs; a resent event (X-Slack-Retry-Num, or
    the socket-mode retry_attempt) that is already answered or being answered is acked and dropped."""

    def __init__(self, store: Store, stale_after: float) -> None:
        self.store = store
        self.stale_after = stale_after

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        body = req.body or {}
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not self.store.claim_event(str(event_id), stale_after=self.stale_after):
            retry = (req.headers.get("x-slack-retry-num") or ["-"])[0]
            log.info("event %s already taken; resend %s ignored", event_id, retry)
            return BoltResponse(status=200, body="")
        return next()


class SlackAdvisor:
    """The listeners: each turns a Slack payload into an engine call or a store call, and renders the result."""

    def __init__(self, settings: Settings, advisor: Advisor, store: Store,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.advisor = advisor
        self.store = store
        self.clock = clock  # paces the streamed updates (tests may pass their own)

    # --- events ----------------------------------------------------------------------------------

    def allowed(self, channel: str) -> bool:
        """The optional allow-list (ADVISOR_SLACK_CHANNELS) of channels; direct messages are always allowed."""
        return not self.settings.slack_channels or channel in self.settings.slack_channels

    def on_mention(self, event: dict, body: dict, client: WebClient, context) -> None:
        """@mention in a channel: answered in the thread it starts (or is in)."""
        if event.get("bot_id"):
            return self._finish(body)
        channel = event["channel"]
        if not self.allowed(channel):
            log.info("mention in %s ignored: not in ADVISOR_SLACK_CHANNELS", channel)
            self._quietly(lambda: client.chat_postEphemeral(channel=channel, user=event.get("user", ""),
                                                           text=NOT_HERE, thread_ts=event.get("thread_ts")))
            return self._finish(body)
        self.answer(client, body, team=context.team_id, channel=channel,
                    thread_ts=event.get("thread_ts") or event["ts"], text=event.get("text", ""), user=event.get("user"))

    def on_message(self, event: dict, body: dict, client: WebClient, context) -> None:
        """A direct message (answered in its thread in the DM), or a reply in a channel thread the bot already
        answers in (a follow-up; a reply that mentions the bot is left to on_mention, so it is answered once)."""
        if event.get("subtype") or event.get("bot_id") or not event.get("user") \
                or event.get("user") == context.bot_user_id:
            return self._finish(body)  # edits, joins, our own and other bots' messages
        channel, thread, text = event["channel"], event.get("thread_ts"), event.get("text", "")
        kind = event.get("channel_type")
        if kind == "im":
            return self.answer(client, body, team=context.team_id, channel=channel, thread_ts=thread or event["ts"],
                               text=text, user=event["user"])
        mentioned = bool(context.bot_user_id) and f"<@{context.bot_user_id}" in text
        if kind in ("channel", "group") and thread and not mentioned and self.allowed(channel) \
                and self.store.has_conversation(conversation_id(context.team_id, channel, thread)):
            return self.answer(client, body, team=context.team_id, channel=channel, thread_ts=thread, text=text,
                               user=event["user"])
        self._finish(body)

    def on_home_opened(self, event: dict, body: dict, client: WebClient) -> None:
        """Agent messaging experience: the user opened the bot's Messages tab; offer example questions."""
        if event.get("tab") == "messages" and event.get("channel"):
            self._quietly(lambda: client.assistant_threads_setSuggestedPrompts(
                channel_id=event["channel"], title=PROMPTS_TITLE, prompts=SUGGESTED_PROMPTS))
        self._finish(body)

    def on_thread_started(self, event: dict, body: dict, client: WebClient) -> None:
        """Legacy assistant messaging experience: a new assistant thread; offer example questions in it."""
        thread = event.get("assistant_thread") or {}
        if thread.get("channel_id") and thread.get("thread_ts"):
            self._quietly(lambda: client.assistant_threads_setSuggestedPrompts(
                channel_id=thread["channel_id"], thread_ts=thread["thread_ts"], title=PROMPTS_TITLE,
                prompts=SUGGESTED_PROMPTS))
        self._finish(body)

    def answer(self, client: WebClient, body: dict, *, team: str | None, channel: str, thread_ts: str,
               text: str, user: str | None = None) -> None:
        """Question → engine (with the thread's earlier turns as history) → stored → posted in the thread
        (streamed as it is written when the answerer generates it)."""
        question = question_text(text)
        self._quietly(lambda: client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts,
                                                                 status=STATUS))
        sent = _Sent()
        try:
            conv = self.store.conversation(conversation_id(team, channel, thread_ts), channel="slack")
            try:
                self.advisor.check(question)
            except QuestionError as exc:
                self._post(client, channel, thread_ts, notice(str(exc)))
            else:
                history = self.store.history(conv, self.settings.history_turns)
                if self._generative():
                    self._stream(client, sent, conv, question, history, team=team, user=user, channel=channel,
                                 thread_ts=thread_ts)
                else:
                    answer = self.advisor.ask(question, history=history, persona=self.settings.slack_persona)
                    message_id = self.store.record(conv, question, answer)
                    self._post_all(client, sent, channel, thread_ts, render_answer(answer, message_id))
        except SlackApiError as exc:
            log.error("posting to Slack failed: %s", exc.response.get("error") if exc.response else exc)
            if not sent.count:  # nothing reached the thread: a later resend of the event may still answer it
                return
        except PassageIndexError as exc:
            log.error("index unavailable: %s", exc)
            self._quietly(lambda: self._post(client, channel, thread_ts, notice(INDEX_DOWN)))
        except Exception:
            log.exception("answering a Slack question failed")
            self._quietly(lambda: self._post(client, channel, thread_ts, notice(FAILED)))
        self._finish(body)

    def _generative(self) -> bool:
        """The answerer writes its answer as it goes (the LLM answerer), so streaming it is worth it."""
        return callable(getattr(self.advisor.answerer, "stream", None))

    def _stream(self, client: WebClient, sent: _Sent, conv: str, question: str, history: list[dict], *,
                team: str | None, user: str | None, channel: str, thread_ts: str) -> None:
        """The answer streamed into the thread as the engine passes on verified sentences, then finished with
        its sources and buttons; if Slack refuses the stream, the answer is posted whole when it is complete."""
        streamer = None
        shown = ""  # the answer text streamed so far
        broken = False
        answer: Answer | None = None
        events = self.advisor.stream(question, history=history, persona=self.settings.slack_persona)
        try:
            for update in message_updates(events, self.settings.slack_stream_interval, self.clock):
                if update.final:
                    answer = update.answer
                    break
                if update.status or broken or len(update.text) > MESSAGE_CHARS or not update.text.startswith(shown):
                    continue  # the status is Slack's own (setStatus); an over-long text is set at the end
                piece = update.text[len(shown):]
                if not piece:
                    continue
                try:
                    if streamer is None:
                        # buffer_size=1: every piece is sent; message_updates already paces them.
                        streamer = client.chat_stream(channel=channel, thread_ts=thread_ts, recipient_team_id=team,
                                                      recipient_user_id=user, buffer_size=1)
                    streamer.append(markdown_text=_markdown(piece))
                    sent.count = max(sent.count, 1)
                    shown = update.text
                except SlackApiError as exc:
                    log.warning("streaming to Slack failed (%s); the answer is posted when complete",
                                exc.response.get("error") if exc.response else exc)
                    broken = True
            assert answer is not None
            message_id = self.store.record(conv, question, answer)
        except BaseException:
            if streamer is not None and streamer.ts is not None:  # no message is left streaming
                self._quietly(lambda: streamer.stop())
            raise
        messages = render_answer(answer, message_id)
        if streamer is None or streamer.ts is None:  # nothing streamed: posted as an extractive answer is
            return self._post_all(client, sent, channel, thread_ts, messages)
        if not broken and len(messages) == 1 and answer.answer.startswith(shown):
            try:  # what was streamed is the answer: the rest of it, then sources, notice and buttons under it
                streamer.stop(markdown_text=_markdown(answer.answer[len(shown):]) or None,
                              blocks=answer_tail(answer, message_id))
                return
            except SlackApiError as exc:
                log.warning("chat.stopStream failed (%s); the message is rewritten instead",
                            exc.response.get("error") if exc.response else exc)
        else:
            # Not the streamed text (the extractive answer after a provider failure, with its notice) or too
            # long for one message: the stream ends and the message is rewritten as a whole.
            self._quietly(lambda: streamer.stop())
        client.chat_update(channel=channel, ts=streamer.ts, text=messages[0].text, blocks=messages[0].blocks)
        self._post_all(client, sent, channel, thread_ts, messages[1:])

    def _post_all(self, client: WebClient, sent: _Sent, channel: str, thread_ts: str,
                  messages: list[SlackMessage]) -> None:
        for message in messages:
            self._post(client, channel, thread_ts, message)
            sent.count += 1

    # --- buttons -----------------------------------------------------------------------------------

    def on_feedback(self, body: dict, client: WebClient) -> None:
        """👍 / 👎: stored as feedback on that answer, exactly as the web page's feedback."""
        action = (body.get("actions") or [{}])[0]
        rating = "up" if action.get("action_id") == ACTION_UP else "down"
        try:
            self.store.add_feedback(self._message_id(action), rating)
            reply = THANKS[rating]
        except UnknownMessageError:
            reply = UNKNOWN_ANSWER
        self._quietly(lambda: self._ephemeral(client, body, notice(reply)))

    def on_sources(self, body: dict, client: WebClient) -> None:
        """出典を表示: the cited passages of that answer, shown only to the user who asked for them."""
        action = (body.get("actions") or [{}])[0]
        try:
            message = render_sources(self.store.citations(self._message_id(action)))
        except UnknownMessageError:
            message = notice(UNKNOWN_ANSWER)
        self._quietly(lambda: self._ephemeral(client, body, message))

    # --- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _message_id(action: dict) -> str:
        value = str(action.get("value", ""))
        if not _MESSAGE_ID.match(value):
            raise UnknownMessageError(value)
        return value

    @staticmethod
    def _post(client: WebClient, channel: str, thread_ts: str, message: SlackMessage) -> None:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message.text, blocks=message.blocks,
                                unfurl_links=False, unfurl_media=False)

    @staticmethod
    def _ephemeral(client: WebClient, body: dict, message: SlackMessage) -> None:
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        thread_ts = (body.get("message") or {}).get("thread_ts") or container.get("thread_ts")
        client.chat_postEphemeral(channel=str(channel or ""), user=(body.get("user") or {}).get("id", ""), text=message.text,
                                  blocks=message.blocks, thread_ts=thread_ts)

    @staticmethod
    def _quietly(call: Callable[[], object]) -> None:
        """A call whose failure must not stop the answer (a status, a notice): logged, not raised."""
        try:
            call()
        except Exception as exc:  # SlackApiError or a connection error
            log.warning("Slack call failed: %s", getattr(getattr(exc, "response", None), "data", None) or exc)

    def _finish(self, body: dict) -> None:
        event_id = body.get("event_id")
        if event_id:
            try:
                self.store.finish_event(str(event_id))
            except Exception:
                log.exception("could not mark Slack event %s answered", event_id)


def _ack(ack) -> None:
    """Acknowledge at once; the work runs in the lazy listener."""
    ack()


def build_app(settings: Settings, advisor: Advisor, store: Store, *, socket_mode: bool = False,
              token_verification: bool = False) -> App:
    """The Bolt app for one process. HTTP mode checks request signatures (SLACK_SIGNING_SECRET); Socket Mode
    needs none (the websocket is opened with the app token). `token_verification` calls auth.test now, as
    the Socket Mode command does, instead of on the first event, as the web app does (so it starts offline)."""
    token = _secret(settings.slack_bot_token)
    secret = _secret(settings.slack_signing_secret)
    if not token:
        raise SlackConfigError("SLACK_BOT_TOKEN が設定されていません (set SLACK_BOT_TOKEN to the app's xoxb- bot token).")
    if not socket_mode and not secret:
        raise SlackConfigError("SLACK_SIGNING_SECRET が設定されていません (set SLACK_SIGNING_SECRET from Basic Information).")
    client = WebClient(token=token, base_url=settings.slack_api_url)
    app = App(client=client, signing_secret=secret or None, name="subsidy-advisor",
              request_verification_enabled=not socket_mode, token_verification_enabled=token_verification,
              process_before_response=False)
    app.use(OncePerEvent(store, settings.slack_event_stale_seconds))
    handlers = SlackAdvisor(settings, advisor, store)
    for event_type, method in EVENT_LISTENERS.items():
        app.event(event_type)(ack=_ack, lazy=[getattr(handlers, method)])
    for action_id, method in ACTION_LISTENERS.items():
        app.action(action_id)(ack=_ack, lazy=[getattr(handlers, method)])

    @app.error
    def _log_error(error: Exception, body: dict) -> None:
        log.error("Slack request failed (%s): %s", body.get("type") if isinstance(body, dict) else "?", error)

    return app
