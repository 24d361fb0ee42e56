"""A real Bolt app inside the real FastAPI app, over the real engine and store.

Signed Events API and interactivity requests go through /slack/events as Slack sends them; the app's Web API
calls go to a local Slack Web API stand-in on 127.0.0.1 (slack_sdk's base_url), which answers as Slack
does and records each call. Lazy listeners answer in background threads, so the tests poll the record.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import queue
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from bot.engine import Advisor
from bot.slack.app import INDEX_DOWN, NOT_HERE, PROMPTS_TITLE, STATUS, SUGGESTED_PROMPTS, conversation_id
from bot.slack.blocks import ACTION_DOWN, ACTION_SOURCES, ACTION_UP, render_answer
from bot.slack.socket import socket_handler
from bot.storage import SlackEvent, Store
from bot.web import create_app
from tests.integration.openai_standin import INVENTED, StandIn

pytestmark = pytest.mark.slack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0ADVISOR"
BOT_USER, BOT_ID = "U0ADVISORBOT", "B0ADVISORBOT"
USER = "U0YOROZU01"
SAPOIN = "サポイン事業の補助上限額は？"
WAIT = 15.0  # generous: the first answer of a session may load models


class SlackStandIn:
    """The Slack Web API methods the app calls, answering like Slack and recording every call."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.lock = threading.Lock()
        self.socket_url = ""  # what apps.connections.open hands out (the Socket Mode stand-in)
        self.messages: dict[str, dict] = {}  # ts → the bot's message as Slack shows it (text, blocks, streaming)
        self._ts = itertools.count(1)
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                method = self.path.rsplit("/", 1)[-1]
                body = stand_in.respond(method, params, self.headers.get("Authorization", ""))
                data = json.dumps(body).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def respond(self, method: str, params: dict, auth: str) -> dict:
        with self.lock:
            self.calls.append({"method": method, "params": params, "auth": auth})
        ts = f"1800000000.{next(self._ts):06d}"
        if method == "auth.test":
            return {"ok": True, "url": "https://yorozu.slack.com/", "team": "よろず", "user": "advisor",
                    "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}
        if method == "chat.postMessage" and params.get("channel") == "C0GONE":  # the bot was removed from it
            return {"ok": False, "error": "not_in_channel"}
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": ts,
                    "message": {"type": "message", "text": params.get("text"), "user": BOT_USER, "bot_id": BOT_ID,
                                "ts": ts, "thread_ts": params.get("thread_ts"), "blocks": params.get("blocks")}}
        if method in {"chat.startStream", "chat.appendStream", "chat.stopStream", "chat.update"}:
            return self._message_call(method, params, ts)
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method in {"assistant.threads.setStatus", "assistant.threads.setSuggestedPrompts"}:
            return {"ok": True}
        if method == "apps.connections.open" and self.socket_url:
            return {"ok": True, "url": self.socket_url}
        return {"ok": False, "error": "unknown_method"}

    def _message_call(self, method: str, params: dict, new_ts: str) -> dict:
        """Slack's chat streaming for AI apps (chat.startStream → appendStream → stopStream, markdown arriving
        as `markdown_text` or as markdown_text chunks) and chat.update, on a record of the bot's messages."""
        channel = params.get("channel")
        if channel == "C0GONE":
            return {"ok": False, "error": "not_in_channel"}
        text = (params.get("markdown_text") or "") + "".join(
            c.get("text", "") for c in params.get("chunks") or [] if c.get("type") == "markdown_text")
        with self.lock:
            if method == "chat.startStream":
                if not params.get("thread_ts"):
                    return {"ok": False, "error": "invalid_arguments"}
                # Outside a DM the stream needs the user (and team) it answers.
                if not channel.startswith("D") and not (params.get("recipient_user_id")
                                                        and params.get("recipient_team_id")):
                    return {"ok": False, "error": "invalid_arguments"}
                self.messages[new_ts] = {"channel": channel, "thread_ts": params["thread_ts"], "markdown": text,
                                         "blocks": [], "text": "", "streaming": True}
                return {"ok": True, "channel": channel, "ts": new_ts}
            message = self.messages.get(params.get("ts", ""))
            if message is None or message["channel"] != channel:
                return {"ok": False, "error": "message_not_found"}
            if method == "chat.update":
                blocks = params.get("blocks")
                message.update(text=params.get("text", ""), markdown="",
                               blocks=json.loads(blocks) if isinstance(blocks, str) else blocks or [])
                return {"ok": True, "channel": channel, "ts": params["ts"], "text": message["text"],
                        "message": {"type": "message", "text": message["text"], "user": BOT_USER,
                                    "bot_id": BOT_ID, "blocks": message["blocks"]}}
            if not message["streaming"]:
                return {"ok": False, "error": "message_not_in_streaming_state"}
            message["markdown"] += text
            if method == "chat.appendStream":
                return {"ok": True, "channel": channel, "ts": params["ts"]}
            message["streaming"] = False
            message["blocks"] = params.get("blocks") or []
            return {"ok": True, "channel": channel, "ts": params["ts"],
                    "message": {"type": "message", "text": message["markdown"], "user": BOT_USER, "bot_id": BOT_ID,
                                "ts": params["ts"], "thread_ts": message["thread_ts"], "blocks": message["blocks"]}}

    def of(self, method: str, **match) -> list[dict]:
        with self.lock:
            return [c["params"] for c in self.calls
                    if c["method"] == method and all(c["params"].get(k) == v for k, v in match.items())]

    def wait(self, method: str, count: int = 1, timeout: float = WAIT, **match) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(method, **match)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{method} {match} not called {count}x within {timeout}s; calls: "
                             f"{[(c['method'], c['params'].get('channel')) for c in self.calls]}")


class SocketModeStandIn:
    """Slack's Socket Mode websocket: says hello, sends queued envelopes, records the acknowledgements."""

    def __init__(self) -> None:
        from websockets.sync.server import serve

        self.outbox: queue.Queue[dict] = queue.Queue()
        self.acks: list[dict] = []
        self.connected = threading.Event()
        self.server = serve(self._session, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link/?ticket=test"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _session(self, ws) -> None:
        from websockets.exceptions import ConnectionClosed

        ws.send(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0ADVISOR"},
                            "debug_info": {"host": "stand-in", "approximate_connection_time": 3600}}))
        self.connected.set()
        while True:
            try:
                ws.send(json.dumps(self.outbox.get(timeout=0.02)))
            except queue.Empty:
                pass
            except ConnectionClosed:
                return
            try:
                self.acks.append(json.loads(ws.recv(timeout=0.01)))
            except TimeoutError:
                pass
            except ConnectionClosed:
                return

    def send_event(self, event: dict, event_id: str, envelope_id: str, retry: int = 0) -> None:
        payload = {"token": "legacy", "team_id": TEAM, "api_app_id": "A0ADVISOR", "event": event,
                   "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
                   "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}
        self.outbox.put({"envelope_id": envelope_id, "type": "events_api", "accepts_response_payload": False,
                         "retry_attempt": retry, "retry_reason": "timeout" if retry else "", "payload": payload})

    def acked(self, envelope_id: str, timeout: float = WAIT) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(a.get("envelope_id") == envelope_id for a in list(self.acks)):
                return True
            time.sleep(0.02)
        return False


@pytest.fixture(scope="module")
def slack_api():
    stand_in = SlackStandIn()
    yield stand_in
    stand_in.server.shutdown()


@pytest.fixture(scope="module")
def slack_settings(corpus_settings, slack_api, tmp_path_factory):
    db = tmp_path_factory.mktemp("slack") / "slack.db"
    return corpus_settings.model_copy(update={
        "database_url": f"sqlite:///{db}", "rate_limit": "1000/minute",
        "slack_bot_token": SecretStr("xoxb-test-token"), "slack_signing_secret": SecretStr(SECRET),
        "slack_api_url": slack_api.url})


@pytest.fixture(scope="module")
def client(slack_settings, advisor):
    with pytest.MonkeyPatch.context() as mp:
        for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):  # slack_sdk ignores NO_PROXY
            mp.delenv(name, raising=False)
        with TestClient(create_app(slack_settings, advisor=advisor)) as c:
            yield c


@pytest.fixture(scope="module")
def store(slack_settings) -> Store:
    return Store(slack_settings.database_url)


_ids = itertools.count(1)


def new_ts() -> str:
    return f"1700000000.{next(_ids):06d}"


def signed(body: str, secret: str = SECRET, timestamp: int | None = None, content_type: str = "application/json",
           retry: int | None = None) -> dict:
    """Headers as Slack sends them: v0 signature = HMAC-SHA256 of `v0:timestamp:body` with the signing secret."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return headers


def send_event(client: TestClient, event: dict, event_id: str | None = None, retry: int | None = None,
               secret: str = SECRET):
    event_id = event_id or f"Ev{next(_ids):08d}"
    body = json.dumps({"token": "legacy", "team_id": TEAM, "api_app_id": "A0ADVISOR", "event": event,
                       "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
                       "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]},
                      ensure_ascii=False)
    started = time.monotonic()
    r = client.post("/slack/events", content=body.encode("utf-8"), headers=signed(body, secret, retry=retry))
    r.elapsed_s = time.monotonic() - started
    r.event_id = event_id
    return r


def mention(text: str, channel: str = "C0GENERAL", thread_ts: str | None = None) -> dict:
    ts = new_ts()
    event = {"type": "app_mention", "user": USER, "text": f"<@{BOT_USER}> {text}", "ts": ts, "channel": channel,
             "event_ts": ts, "team": TEAM}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(text: str, channel: str, channel_type: str, thread_ts: str | None = None, **extra) -> dict:
    ts = new_ts()
    event = {"type": "message", "user": USER, "text": text, "ts": ts, "channel": channel, "event_ts": ts,
             "channel_type": channel_type, "team": TEAM} | extra
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def click(client: TestClient, action_id: str, value: str, channel: str, thread_ts: str, user: str = USER):
    payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
               "api_app_id": "A0ADVISOR", "trigger_id": "1.2.3", "container": {
                   "type": "message", "channel_id": channel, "message_ts": "1800000000.000001",
                   "thread_ts": thread_ts, "is_ephemeral": False},
               "channel": {"id": channel}, "message": {"ts": "1800000000.000001", "thread_ts": thread_ts},
               "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                            "action_ts": str(time.time())}]}
    body = "payload=" + urllib.parse.quote(json.dumps(payload, ensure_ascii=False))
    return client.post("/slack/events", content=body.encode(),
                       headers=signed(body, content_type="application/x-www-form-urlencoded"))


def event_done(store: Store, event_id: str, timeout: float = WAIT) -> bool:
    """Wait until the app has finished with an event (answered, or decided to leave it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store._session() as s:
            row = s.scalars(select(SlackEvent).where(SlackEvent.event_id == event_id)).first()
            if row is not None and row.done:
                return True
        time.sleep(0.02)
    return False


def blocks_of(post: dict) -> list[dict]:
    blocks = post["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def message_id_of(post: dict) -> str:
    [actions] = [b for b in blocks_of(post) if b["type"] == "actions"]
    return actions["elements"][0]["value"]


def test_mention_is_answered_in_its_thread_with_citation_blocks(client, slack_api, store, advisor):
    event = mention(SAPOIN)
    r = send_event(client, event)
    assert r.status_code == 200 and r.elapsed_s < 3  # acknowledged at once; the answer comes later
    [post] = slack_api.wait("chat.postMessage", thread_ts=event["ts"])
    assert post["channel"] == "C0GENERAL" and post["unfurl_links"] is False
    expected = advisor.ask(SAPOIN)
    assert not expected.refused and post["text"] == expected.answer
    blocks = blocks_of(post)
    sections = " ".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "4,500万円" in sections and " *[1]*" in sections and "[1]" not in sections.replace(" *[1]*", "")
    sources = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    for c in expected.citations:
        assert any(s.startswith(f"[{c.n}] {c.title}") and f"{c.source} {c.start_line}–{c.end_line}行" in s
                   for s in sources)
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [ACTION_UP, ACTION_DOWN, ACTION_SOURCES]
    assert blocks == render_answer(expected, message_id_of(post))[0].blocks
    [status] = slack_api.of("assistant.threads.setStatus", thread_ts=event["ts"])
    assert {k: status[k] for k in ("channel_id", "thread_ts", "status")} == {
        "channel_id": "C0GENERAL", "thread_ts": event["ts"], "status": STATUS}
    conv = conversation_id(TEAM, "C0GENERAL", event["ts"])
    assert store.history(conv) == [{"role": "user", "content": SAPOIN},
                                   {"role": "assistant", "content": expected.answer}]
    assert store.citations(message_id_of(post)) == expected.citations
    assert all(c["auth"] == "Bearer xoxb-test-token" for c in slack_api.calls)
    assert not slack_api.of("unknown")  # every method called is one the stand-in (and the manifest) knows
    assert {c["method"] for c in slack_api.calls} <= {"auth.test", "chat.postMessage", "chat.postEphemeral",
                                                      "assistant.threads.setStatus",
                                                      "assistant.threads.setSuggestedPrompts"}


def test_direct_message_is_answered_in_the_dm(client, slack_api, advisor):
    event = message("IT導入補助金の補助率は？", "D0ADVISOR1", "im")
    assert send_event(client, event).status_code == 200
    [post] = slack_api.wait("chat.postMessage", channel="D0ADVISOR1", thread_ts=event["ts"])
    assert post["text"] == advisor.ask("IT導入補助金の補助率は？").answer
    assert any(b["type"] == "actions" for b in blocks_of(post))


def test_thread_follow_up_uses_the_earlier_turn(client, slack_api, store, advisor):
    first = mention(SAPOIN, channel="C0THREADS")
    send_event(client, first)
    [answer1] = slack_api.wait("chat.postMessage", thread_ts=first["ts"])
    # A reply in the thread, without a mention: a follow-up with the thread as history.
    follow = message("その補助率は？", "C0THREADS", "channel", thread_ts=first["ts"])
    # A reply in a thread the bot never answered in is human conversation: left alone.
    stranger = message("その補助率は？", "C0THREADS", "channel", thread_ts=new_ts())
    other = send_event(client, stranger)
    send_event(client, follow)
    posts = slack_api.wait("chat.postMessage", count=2, thread_ts=first["ts"])
    history = [{"role": "user", "content": SAPOIN}, {"role": "assistant", "content": answer1["text"]}]
    expected = advisor.ask("その補助率は？", history=history)
    assert posts[1]["text"] == expected.answer
    assert expected.answer != advisor.ask("その補助率は？").answer  # the history changed the answer
    assert event_done(store, other.event_id)
    assert not slack_api.of("chat.postMessage", thread_ts=stranger["thread_ts"])
    # A reply that mentions the bot arrives as app_mention *and* message: answered once, as the mention.
    again = mention("その補助率は？", channel="C0THREADS", thread_ts=first["ts"])
    as_message = dict(again, type="message", channel_type="channel")
    send_event(client, as_message)
    send_event(client, again)
    slack_api.wait("chat.postMessage", count=3, thread_ts=first["ts"])
    time.sleep(0.3)
    assert len(slack_api.of("chat.postMessage", thread_ts=first["ts"])) == 3


def test_retried_event_is_answered_once_across_instances(client, slack_api, store, slack_settings, advisor):
    event = mention("事業承継の相談窓口は？", channel="C0RETRY")
    first = send_event(client, event)
    assert send_event(client, event, event_id=first.event_id, retry=1).status_code == 200  # while answering
    slack_api.wait("chat.postMessage", thread_ts=event["ts"])
    assert event_done(store, first.event_id)
    # The second resend reaches another instance (another worker or server) sharing the database.
    with TestClient(create_app(slack_settings, advisor=advisor, warm_up=False)) as other:
        assert send_event(other, event, event_id=first.event_id, retry=2).status_code == 200
    assert send_event(client, event, event_id=first.event_id, retry=3).status_code == 200
    time.sleep(0.5)
    assert len(slack_api.of("chat.postMessage", thread_ts=event["ts"])) == 1


def test_bad_signatures_are_rejected_with_401(client, slack_api):
    before = len(slack_api.calls)
    event = mention(SAPOIN, channel="C0FORGED")
    assert send_event(client, event, secret="not-the-secret").status_code == 401
    body = json.dumps({"type": "event_callback", "event_id": "EvOld", "event": event})
    stale = signed(body, timestamp=int(time.time()) - 600)  # a replayed request from 10 minutes ago
    assert client.post("/slack/events", content=body, headers=stale).status_code == 401
    assert client.post("/slack/events", content=body, headers={"Content-Type": "application/json"}).status_code == 401
    time.sleep(0.3)
    assert len(slack_api.calls) == before  # nothing answered, nothing claimed


def test_malformed_signed_requests_get_no_500(client):
    for body, content_type in [("{not json", "application/json"), ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
                               ("", "application/json")]:
        r = client.post("/slack/events", content=body, headers=signed(body, content_type=content_type))
        assert r.status_code < 500, (body, r.status_code, r.text)


def test_url_verification_challenge_is_answered(client):
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    r = client.post("/slack/events", content=body, headers=signed(body))
    assert r.status_code == 200 and "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in r.text


def test_feedback_buttons_are_stored_as_feedback(client, slack_api, store):
    event = mention("IT導入補助金の補助率は？", channel="C0FEEDBACK")
    send_event(client, event)
    [post] = slack_api.wait("chat.postMessage", thread_ts=event["ts"])
    message_id = message_id_of(post)
    r = click(client, ACTION_DOWN, message_id, "C0FEEDBACK", event["ts"])
    assert r.status_code == 200
    [thanks] = slack_api.wait("chat.postEphemeral", channel="C0FEEDBACK", thread_ts=event["ts"])
    assert thanks["user"] == USER and "👎" in thanks["text"]
    rated = [ex for ex in store.rated("down") if ex.message_id == message_id]  # what `feedback export` reads
    assert len(rated) == 1
    assert rated[0].question == "IT導入補助金の補助率は？" and rated[0].answer == post["text"]
    assert click(client, ACTION_UP, message_id, "C0FEEDBACK", event["ts"]).status_code == 200
    slack_api.wait("chat.postEphemeral", count=2, channel="C0FEEDBACK")
    assert [ex.message_id for ex in store.rated("up")].count(message_id) == 1
    # A forged or stale button value is answered politely, not with an error.
    assert click(client, ACTION_UP, "../../etc/passwd", "C0FEEDBACK", event["ts"]).status_code == 200
    assert click(client, ACTION_UP, "f" * 32, "C0FEEDBACK", event["ts"]).status_code == 200
    notes = slack_api.wait("chat.postEphemeral", count=4, channel="C0FEEDBACK")
    assert all("見つかりませんでした" in n["text"] for n in notes[2:])


def test_show_sources_posts_the_cited_passages_to_the_user(client, slack_api, advisor):
    event = message(SAPOIN, "D0SOURCES", "im")
    send_event(client, event)
    [post] = slack_api.wait("chat.postMessage", channel="D0SOURCES")
    r = click(client, ACTION_SOURCES, message_id_of(post), "D0SOURCES", event["ts"], user="U0OTHER")
    assert r.status_code == 200
    [shown] = slack_api.wait("chat.postEphemeral", channel="D0SOURCES")
    assert shown["user"] == "U0OTHER" and shown["thread_ts"] == event["ts"]
    text = "\n".join(b["text"]["text"] for b in blocks_of(shown) if b["type"] == "section")
    for c in advisor.ask(SAPOIN).citations:
        first_line = next(line for line in c.text.splitlines() if line.strip())
        assert f"> {first_line}".replace("&", "&amp;").replace("<", "&lt;") in text
        heads = [b["elements"][0]["text"] for b in blocks_of(shown) if b["type"] == "context"]
        assert any(h.startswith(f"*[{c.n}] {c.title}") for h in heads)


def test_own_and_other_bots_messages_are_ignored(client, slack_api, store):
    thread = mention(SAPOIN, channel="C0BOTS")
    send_event(client, thread)
    slack_api.wait("chat.postMessage", thread_ts=thread["ts"])
    own_in_thread = message("補助上限額は4,500万円です。[1]", "C0BOTS", "channel", thread_ts=thread["ts"],
                            user=BOT_USER, bot_id=BOT_ID)
    own_dm = message("補助上限額は4,500万円です。[1]", "D0BOTS", "im", user=BOT_USER, bot_id=BOT_ID)
    other_bot = message("IT導入補助金の補助率は？", "D0BOTS", "im", subtype="bot_message", bot_id="B0OTHERBOT")
    other_bot.pop("user")
    other_mention = dict(mention("IT導入補助金の補助率は？", channel="C0BOTS"), bot_id="B0OTHERBOT")
    results = [send_event(client, e) for e in (own_in_thread, own_dm, other_bot, other_mention)]
    assert all(r.status_code == 200 for r in results)
    assert event_done(store, results[2].event_id) and event_done(store, results[3].event_id)
    time.sleep(0.3)
    assert len(slack_api.of("chat.postMessage", thread_ts=thread["ts"])) == 1
    assert not slack_api.of("chat.postMessage", channel="D0BOTS")
    assert not slack_api.of("chat.postMessage", thread_ts=other_mention["ts"])


def test_suggested_prompts_when_a_conversation_starts(client, slack_api, store):
    opened = {"type": "app_home_opened", "user": USER, "channel": "D0PROMPTS", "tab": "messages",
              "event_ts": new_ts()}
    send_event(client, opened)
    [prompts] = slack_api.wait("assistant.threads.setSuggestedPrompts", channel_id="D0PROMPTS")
    assert prompts["prompts"] == SUGGESTED_PROMPTS and prompts["title"] == PROMPTS_TITLE
    home = send_event(client, dict(opened, tab="home", channel="D0HOMETAB"))
    thread_ts = new_ts()
    started = {"type": "assistant_thread_started", "event_ts": new_ts(), "assistant_thread": {
        "user_id": USER, "context": {"channel_id": "C0GENERAL", "team_id": TEAM}, "channel_id": "D0LEGACY",
        "thread_ts": thread_ts}}
    send_event(client, started)
    [legacy] = slack_api.wait("assistant.threads.setSuggestedPrompts", channel_id="D0LEGACY")
    assert legacy["thread_ts"] == thread_ts and legacy["prompts"] == SUGGESTED_PROMPTS
    assert event_done(store, home.event_id)
    assert not slack_api.of("assistant.threads.setSuggestedPrompts", channel_id="D0HOMETAB")


def test_empty_mention_gets_the_engines_message(client, slack_api):
    event = mention("", channel="C0EMPTY")
    send_event(client, event)
    [post] = slack_api.wait("chat.postMessage", thread_ts=event["ts"])
    assert "質問が空です" in post["text"] and not any(b["type"] == "actions" for b in blocks_of(post))


def test_channel_allow_list(slack_settings, slack_api, advisor):
    settings = slack_settings.model_copy(update={"slack_channels": ["C0ALLOWED"]})
    with TestClient(create_app(settings, advisor=advisor, warm_up=False)) as c:
        outside = mention(SAPOIN, channel="C0OUTSIDE")
        send_event(c, outside)
        [note] = slack_api.wait("chat.postEphemeral", channel="C0OUTSIDE")
        assert note["text"] == NOT_HERE and note["user"] == USER
        inside = mention(SAPOIN, channel="C0ALLOWED")
        send_event(c, inside)
        slack_api.wait("chat.postMessage", thread_ts=inside["ts"])
        dm = message(SAPOIN, "D0ALWAYS", "im")  # direct messages are never restricted
        send_event(c, dm)
        slack_api.wait("chat.postMessage", channel="D0ALWAYS")
    assert not slack_api.of("chat.postMessage", channel="C0OUTSIDE")


def test_engine_failure_is_reported_in_the_thread(slack_settings, slack_api, tmp_path):
    broken = Advisor(slack_settings.model_copy(update={"data_dir": tmp_path / "no-index"}))
    with TestClient(create_app(slack_settings, advisor=broken, warm_up=False)) as c:
        event = mention(SAPOIN, channel="C0BROKEN")
        assert send_event(c, event).status_code == 200
        [post] = slack_api.wait("chat.postMessage", thread_ts=event["ts"])
    assert post["text"] == INDEX_DOWN  # the reason, not a stack trace; nothing recorded as an answer


def event_row(store: Store, event_id: str) -> SlackEvent | None:
    with store._session() as s:
        return s.scalars(select(SlackEvent).where(SlackEvent.event_id == event_id)).first()


def test_an_answer_slack_refused_is_not_dropped(client, slack_api, store, slack_settings, advisor):
    event = mention(SAPOIN, channel="C0GONE")
    first = send_event(client, event)
    assert first.status_code == 200
    slack_api.wait("chat.postMessage", channel="C0GONE")
    time.sleep(0.3)
    assert event_row(store, first.event_id).done is False  # not answered: still open for Slack's resend
    assert send_event(client, event, event_id=first.event_id, retry=1).status_code == 200  # soon after: dropped
    time.sleep(0.3)
    assert len(slack_api.of("chat.postMessage", channel="C0GONE")) == 1
    # Slack's later resend, after the claim went stale (its worker is presumed dead), tries again.
    stale = slack_settings.model_copy(update={"slack_event_stale_seconds": 0.0})
    with TestClient(create_app(stale, advisor=advisor, warm_up=False)) as other:
        assert send_event(other, event, event_id=first.event_id, retry=2).status_code == 200
        slack_api.wait("chat.postMessage", count=2, channel="C0GONE")


def test_no_slack_endpoint_without_both_secrets(corpus_settings, advisor, tmp_path):
    settings = corpus_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/w.db",
                                                  "slack_bot_token": SecretStr("xoxb-only")})
    app = create_app(settings, advisor=advisor, warm_up=False)
    assert "/slack/events" not in {getattr(r, "path", "") for r in app.routes}
    with TestClient(app) as c:
        assert c.post("/slack/events", content="{}").status_code in (404, 405)


def test_socket_mode_answers_events_from_the_websocket_once(slack_settings, slack_api, advisor, store):
    """`advisor slack`'s handler: tokens checked with auth.test, a websocket from apps.connections.open,
    envelopes acknowledged, answers posted through the Web API; a resent envelope is not answered again."""
    socket = SocketModeStandIn()
    slack_api.socket_url = socket.url
    settings = slack_settings.model_copy(update={"slack_app_token": SecretStr("xapp-1-A0ADVISOR-1-test"),
                                                 "slack_signing_secret": None})
    auth_before = len(slack_api.of("auth.test"))
    handler = socket_handler(settings, advisor=advisor, store=store)
    assert len(slack_api.of("auth.test")) == auth_before + 1  # the bot token was checked before connecting
    try:
        handler.connect()
        assert socket.connected.wait(WAIT)
        event = mention(SAPOIN, channel="C0SOCKET")
        socket.send_event(event, "EvSocket0001", "env-1")
        assert socket.acked("env-1")
        [post] = slack_api.wait("chat.postMessage", thread_ts=event["ts"])
        assert post["text"] == advisor.ask(SAPOIN).answer
        assert any(b["type"] == "actions" for b in blocks_of(post))
        assert event_done(store, "EvSocket0001")
        socket.send_event(event, "EvSocket0001", "env-2", retry=1)
        assert socket.acked("env-2")
        time.sleep(0.3)
        assert len(slack_api.of("chat.postMessage", thread_ts=event["ts"])) == 1
        assert [c["auth"] for c in slack_api.calls if c["method"] == "apps.connections.open"][-1] == \
            "Bearer xapp-1-A0ADVISOR-1-test"
    finally:
        handler.close()
        socket.server.shutdown()


# --- LLM answers streamed with Slack's chat streaming -------------------------------------------------------


@pytest.fixture(scope="module")
def llm_server():
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def llm_slack(slack_settings, advisor, llm_server):
    """The web app with an LLM-configured Advisor (the OpenAI-compatible stand-in, streaming), sharing the
    session's index; interval 0, so every verified sentence is streamed as it comes."""
    settings = slack_settings.model_copy(update={
        "answerer": "llm", "llm_provider": "openai_compatible", "llm_base_url": llm_server.url,
        "llm_model": "stand-in-model", "llm_timeout": 1.0, "llm_max_retries": 0, "llm_cooldown": 0.0,
        "slack_stream_interval": 0.0})
    llm = Advisor(settings)
    llm.share_index(advisor)
    with pytest.MonkeyPatch.context() as mp:
        for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
            mp.delenv(name, raising=False)
        with TestClient(create_app(settings, advisor=llm, warm_up=False)) as c:
            yield c


def calls_in(slack_api: SlackStandIn, channel: str) -> list[dict]:
    with slack_api.lock:
        return [c for c in slack_api.calls
                if channel in (c["params"].get("channel"), c["params"].get("channel_id"))]


def streamed_pieces(call: dict) -> list[str]:
    params = call["params"]
    return [params.get("markdown_text") or ""] + [c["text"] for c in params.get("chunks") or []
                                                   if c.get("type") == "markdown_text"]


def plain(markdown: str) -> str:
    """Streamed markdown back to answer text (hard line breaks and Slack's escapes undone)."""
    return markdown.replace("  \n", "\n").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_llm_answer_is_streamed_then_finished_with_sources_and_buttons(llm_slack, llm_server, slack_api, store):
    llm_server.reset()
    event = mention(SAPOIN, channel="C0STREAM")
    assert send_event(llm_slack, event).status_code == 200
    [stop] = slack_api.wait("chat.stopStream", channel="C0STREAM")
    calls = calls_in(slack_api, "C0STREAM")
    methods = [c["method"] for c in calls]
    # The status first, then one streamed message: started, appended to sentence by sentence, stopped.
    assert methods[0] == "assistant.threads.setStatus" and calls[0]["params"]["status"] == STATUS
    assert methods[1] == "chat.startStream" and methods[-1] == "chat.stopStream"
    assert methods[2:-1] and set(methods[2:-1]) == {"chat.appendStream"}
    start = calls[1]["params"]
    assert start["thread_ts"] == event["ts"] and start["recipient_user_id"] == USER
    assert start["recipient_team_id"] == TEAM
    ts = slack_api.messages
    [stream_ts] = [t for t, m in ts.items() if m["channel"] == "C0STREAM"]
    assert all(c["params"]["ts"] == stream_ts for c in calls[2:])
    assert not slack_api.of("chat.postMessage", thread_ts=event["ts"]) and not slack_api.of("chat.update",
                                                                                            channel="C0STREAM")
    # No sentence the verification dropped was ever shown, and what was streamed is the stored answer.
    pieces = [p for c in calls[1:] for p in streamed_pieces(c)]
    assert all(INVENTED not in p and "10分の10" not in p for p in pieces)
    conv = conversation_id(TEAM, "C0STREAM", event["ts"])
    answer_text = store.history(conv)[-1]["content"]
    assert plain("".join(pieces)) == answer_text and len(answer_text.splitlines()) >= 2
    assert [plain(p) for p in pieces if p] == [line if i == 0 else "\n" + line
                                               for i, line in enumerate(answer_text.splitlines())]
    # chat.stopStream puts the sources, the disclaimer and the buttons under the streamed text.
    message_id = message_id_of(stop)
    citations = store.citations(message_id)
    assert citations and {f"[{c.n}]" for c in citations} <= set(re.findall(r"\[\d+\]", answer_text))
    sources = [e["text"] for b in blocks_of(stop) if b["type"] == "context" for e in b["elements"]]
    assert sources[0] == "*出典*"
    for c in citations:
        assert any(s.startswith(f"[{c.n}] {c.title}") and f"{c.source} {c.start_line}–{c.end_line}行" in s
                   for s in sources)
    [actions] = [b for b in blocks_of(stop) if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [ACTION_UP, ACTION_DOWN, ACTION_SOURCES]
    assert not any(b["type"] == "section" for b in blocks_of(stop))  # the text is the streamed markdown
    assert slack_api.messages[stream_ts]["streaming"] is False
    # The buttons of a streamed answer work as any other's.
    assert click(llm_slack, ACTION_UP, message_id, "C0STREAM", event["ts"]).status_code == 200
    [thanks] = slack_api.wait("chat.postEphemeral", channel="C0STREAM")
    assert "👍" in thanks["text"] and [ex.message_id for ex in store.rated("up")].count(message_id) == 1
    assert len(llm_server.requests) == 1 and llm_server.requests[0]["body"]["stream"] is True


def test_llm_failure_gives_the_extractive_answer_with_its_notice(llm_slack, llm_server, slack_api, advisor):
    llm_server.reset(mode="500")
    event = mention(SAPOIN, channel="C0LLMDOWN")
    send_event(llm_slack, event)
    [stop] = slack_api.wait("chat.stopStream", channel="C0LLMDOWN")
    plain_answer = advisor.ask(SAPOIN)
    # The provider failed before any sentence: what the thread shows is the extractive answer, with the notice.
    [message] = [m for m in slack_api.messages.values() if m["channel"] == "C0LLMDOWN"]
    assert plain(message["markdown"]) == plain_answer.answer and message["streaming"] is False
    notes = [e["text"] for b in blocks_of(stop) if b["type"] == "context" for e in b["elements"]]
    assert any(n.startswith("ℹ️") and "接続エラー" in n for n in notes)
    assert any(n.startswith(f"[{c.n}] {c.title}") for c in plain_answer.citations for n in notes)
    assert any(b["type"] == "actions" for b in blocks_of(stop))
    assert not slack_api.of("chat.postMessage", thread_ts=event["ts"])
    assert not slack_api.of("chat.update", channel="C0LLMDOWN")


def test_an_answer_replaced_after_streaming_rewrites_the_message(llm_slack, llm_server, slack_api, advisor):
    llm_server.reset(mode="stall")  # a verified sentence is streamed, then the model stalls past the timeout
    llm_server.delay = 3.0
    event = mention(SAPOIN, channel="C0STALL")
    send_event(llm_slack, event)
    [update] = slack_api.wait("chat.update", channel="C0STALL")
    methods = [c["method"] for c in calls_in(slack_api, "C0STALL")]
    assert methods[1] == "chat.startStream" and methods[-2:] == ["chat.stopStream", "chat.update"]
    streamed = plain("".join(p for c in calls_in(slack_api, "C0STALL")[1:-1] for p in streamed_pieces(c)))
    assert streamed and INVENTED not in streamed
    plain_answer = advisor.ask(SAPOIN)
    assert update["text"] == plain_answer.answer and streamed != plain_answer.answer
    message_id = message_id_of(update)
    assert blocks_of(update) == render_answer(plain_answer.model_copy(update={"notice": update_notice(update)}),
                                              message_id)[0].blocks
    assert "時間切れ" in update_notice(update)
    [message] = [m for m in slack_api.messages.values() if m["channel"] == "C0STALL"]
    assert message["streaming"] is False and message["text"] == plain_answer.answer
    assert not slack_api.of("chat.postMessage", thread_ts=event["ts"])


def update_notice(post: dict) -> str:
    [note] = [e["text"] for b in blocks_of(post) if b["type"] == "context" for e in b["elements"]
              if e["text"].startswith("ℹ️")]
    return note.removeprefix("ℹ️ ")


def test_a_finder_conversation_in_a_thread(client, slack_api):
    """An advisor asks for fitting programs; the bot asks what decides, then lists programs with cited reasons."""
    first = mention("自分に合う補助金を探したい", channel="C0FINDER")
    send_event(client, first)
    [question] = slack_api.wait("chat.postMessage", thread_ts=first["ts"])
    assert "どんなことに取り組みたいですか" in question["text"]
    reply = message("社員20人の町工場です。大学と組んで新しい加工技術を開発したい", "C0FINDER", "channel",
                    thread_ts=first["ts"])
    send_event(client, reply)
    posts = slack_api.wait("chat.postMessage", count=2, thread_ts=first["ts"])
    listed = posts[1]
    assert "ご状況: 業種: 製造業" in listed["text"] and "ご状況に合いそうな事業" in listed["text"]
    assert "研究開発" in listed["text"] and "公募要領" in listed["text"]
    blocks = json.loads(listed["blocks"]) if isinstance(listed["blocks"], str) else listed["blocks"]
    context = " ".join(e.get("text", "") for b in blocks if b["type"] == "context" for e in b.get("elements", []))
    assert re.search(r"\d+–\d+行", context), context  # the sources of the reasons, with their lines


def test_a_comparison_answer_from_the_catalogue_in_a_thread(client, slack_api):
    """「…の違いは？」 through the real Bolt app: the catalogue table as one bold line per program, cells cited."""
    event = mention("ものづくり補助金とIT導入補助金の違いは？", channel="C0COMPARE")
    send_event(client, event)
    [post] = slack_api.wait("chat.postMessage", thread_ts=event["ts"])
    blocks = blocks_of(post)
    body = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "|---" not in body and "（ものづくり補助金）*" in body and "（IT導入補助金）*" in body
    assert re.search(r"• 補助率：[^\n]+\*\[\d+\]\*", body)
    sources = " ".join(e["text"] for b in blocks if b["type"] == "context" for e in b["elements"])
    assert re.search(r"\d+–\d+行", sources)
