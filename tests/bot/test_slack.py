"""Block Kit rendering (pure functions), Slack settings, the retry claims in the store, and the manifests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.config import Settings
from bot.schema import Answer, Citation
from bot.slack import app as slack_app
from bot.slack.blocks import (
    ACTION_DOWN,
    ACTION_SOURCES,
    ACTION_UP,
    CONTEXT_ELEMENTS,
    MAX_BLOCKS,
    SECTION_CHARS,
    escape,
    question_text,
    render_answer,
    render_sources,
    to_mrkdwn,
)
from bot.storage import Store
from tests.conftest import ROOT

MANIFESTS = sorted((Path(slack_app.__file__).parent).glob("manifest*.yaml"))
MID = "a" * 32


def citation(n: int, text: str = "補助上限額は4,500万円とする。", section: str = "補助上限") -> Citation:
    return Citation(n=n, source="001_x.txt", title="戦略的基盤技術高度化支援事業", section=section,
                    start_line=10 * n, end_line=10 * n + 2, text=text)


def answer(text: str, citations: list[Citation], refused: bool = False) -> Answer:
    return Answer(answer=text, refused=refused, citations=citations)


def all_blocks(messages) -> list[dict]:
    return [b for m in messages for b in m.blocks]


def test_markers_become_bold_mrkdwn_and_text_is_escaped():
    text = to_mrkdwn("上限は<4,500万円>&です。[1]\n補助率は2/3。[2]\n資料の[3]はそのまま", [1, 2])
    assert text == "上限は&lt;4,500万円&gt;&amp;です。 *[1]*\n補助率は2/3。 *[2]*\n資料の[3]はそのまま"
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_question_text_drops_mentions_and_unwraps_links():
    assert question_text("<@U0ADVISOR> サポイン事業の補助上限額は？") == "サポイン事業の補助上限額は？"
    assert question_text("<@U1|advisor>  <https://example.jp|公募要領> の &lt;補助率&gt;") == "公募要領 の <補助率>"
    assert question_text("<@U1>") == ""


def test_answer_renders_sections_sources_disclaimer_and_buttons():
    a = answer("〔補助上限〕補助上限額は4,500万円です。[1]\n補助率は2/3です。[2]", [citation(1), citation(2, section="")])
    [message] = render_answer(a, MID)
    types = [b["type"] for b in message.blocks]
    assert types == ["section", "context", "context", "actions"]
    assert message.blocks[0]["text"]["type"] == "mrkdwn" and " *[1]*" in message.blocks[0]["text"]["text"]
    sources = [e["text"] for e in message.blocks[1]["elements"]]
    assert sources == ["*出典*", "[1] 戦略的基盤技術高度化支援事業 / 補助上限（001_x.txt 10–12行）",
                       "[2] 戦略的基盤技術高度化支援事業（001_x.txt 20–22行）"]
    buttons = message.blocks[3]["elements"]
    assert [b["action_id"] for b in buttons] == [ACTION_UP, ACTION_DOWN, ACTION_SOURCES]
    assert {b["value"] for b in buttons} == {MID}
    assert [b["text"]["text"] for b in buttons] == ["👍", "👎", "出典を表示"]
    assert message.text.startswith("〔補助上限〕補助上限額は4,500万円です。[1]")


def test_a_notice_about_the_answer_is_shown_before_the_sources():
    a = answer("補助上限額は4,500万円です。[1]", [citation(1)]).model_copy(
        update={"notice": "AIによる回答を作成できなかったため、資料の該当箇所を引用してお答えします。"})
    [message] = render_answer(a, MID)
    assert [b["type"] for b in message.blocks] == ["section", "context", "context", "context", "actions"]
    assert message.blocks[1]["elements"][0]["text"].startswith("ℹ️ AIによる回答を作成できなかった")
    assert message.blocks[2]["elements"][0]["text"] == "*出典*"


def test_refusal_has_feedback_buttons_but_no_sources():
    [message] = render_answer(answer("資料からは確認できませんでした。", [], refused=True), MID)
    assert [b["type"] for b in message.blocks] == ["section", "actions"]
    assert [b["action_id"] for b in message.blocks[1]["elements"]] == [ACTION_UP, ACTION_DOWN]


def test_long_answers_split_within_slack_limits():
    lines = [f"{'長い文です。' * 60}[{i % 12 + 1}]" for i in range(120)]  # ~43,000 characters
    cites = [citation(n) for n in range(1, 13)]
    messages = render_answer(answer("\n".join(lines), cites), MID)
    assert len(messages) > 1
    for m in messages:
        assert len(m.blocks) <= MAX_BLOCKS
        assert all(len(b["text"]["text"]) <= SECTION_CHARS for b in m.blocks if b["type"] == "section")
        assert all(len(b["elements"]) <= CONTEXT_ELEMENTS for b in m.blocks if b["type"] == "context")
        assert len(m.text) <= 3000
    assert all(b["type"] == "section" for m in messages[:-1] for b in m.blocks)  # buttons come last, once
    assert [b["type"] for b in all_blocks(messages)].count("actions") == 1
    shown = "\n".join(b["text"]["text"] for b in all_blocks(messages) if b["type"] == "section")
    assert shown.replace(" *[", "[").replace("]*", "]") == "\n".join(lines)  # nothing lost or reordered
    sources = [e["text"] for b in all_blocks(messages) if b["type"] == "context" for e in b["elements"]]
    assert sum(s.startswith("[") for s in sources) == 12


def test_one_over_long_line_is_cut_into_sections():
    [message] = render_answer(answer("あ" * 7000 + "[1]", [citation(1)]), MID)
    sections = [b for b in message.blocks if b["type"] == "section"]
    assert len(sections) == 3 and all(len(s["text"]["text"]) <= SECTION_CHARS for s in sections)


def test_sources_show_the_cited_passages_quoted():
    message = render_sources([citation(1, text="補助上限額\n4,500万円 <税抜>"), citation(2)])
    texts = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert texts[1] == "> 補助上限額\n> 4,500万円 &lt;税抜&gt;"
    heads = [b["elements"][0]["text"] for b in message.blocks if b["type"] == "context"]
    assert heads[0] == "*[1] 戦略的基盤技術高度化支援事業 / 補助上限（001_x.txt 10–12行）*"
    many = render_sources([citation(n) for n in range(1, 40)])
    assert len(many.blocks) <= MAX_BLOCKS and "表示しきれませんでした" in many.blocks[-1]["text"]["text"]


def test_slack_settings_accept_plain_and_prefixed_names(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("ADVISOR_SLACK_SIGNING_SECRET", "s3cret")
    monkeypatch.setenv("ADVISOR_SLACK_CHANNELS", "C01, C02")
    s = Settings(_env_file=None)
    assert s.slack_http_enabled and s.slack_channels == ["C01", "C02"]
    assert "xoxb-1" not in repr(s)  # tokens are secrets
    monkeypatch.setenv("ADVISOR_SLACK_CHANNELS", '["C03"]')
    monkeypatch.delenv("ADVISOR_SLACK_SIGNING_SECRET")
    s = Settings(_env_file=None)
    assert s.slack_channels == ["C03"] and not s.slack_http_enabled


def test_event_claims_answer_once_and_take_back_a_dead_claim(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/s.db")
    other = Store(f"sqlite:///{tmp_path}/s.db")  # a second instance on the same database
    assert store.claim_event("Ev1") is True
    assert other.claim_event("Ev1") is False  # a resend while the first is answering
    assert other.claim_event("Ev1", stale_after=0) is True  # the first worker died: the resend takes it
    other.finish_event("Ev1")
    assert store.claim_event("Ev1", stale_after=0) is False  # answered: never again


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_has_exactly_the_scopes_and_events_the_app_uses(path):
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(slack_app.BOT_SCOPES)
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(events) == sorted(slack_app.MANIFEST_EVENTS)
    registered = set(slack_app.EVENT_LISTENERS)
    assert {e.split(".")[0] for e in events} | set(slack_app.LEGACY_EVENTS) == registered
    assert manifest["settings"]["interactivity"]["is_enabled"] is True  # the buttons
    socket = manifest["settings"]["socket_mode_enabled"]
    assert socket is (path.name == "manifest-socket.yaml")
    if not socket:
        assert manifest["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")
        assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True  # DMs
    assert manifest["features"]["agent_view"]["agent_description"]


@pytest.mark.parametrize("env, words", [
    ({}, "SLACK_APP_TOKEN と SLACK_BOT_TOKEN が設定されていません"),
    ({"SLACK_APP_TOKEN": "xapp-1-A1-1-abc"}, "SLACK_BOT_TOKEN が設定されていません"),
    ({"SLACK_APP_TOKEN": "xoxb-wrong-kind", "SLACK_BOT_TOKEN": "xoxb-1"}, "xapp- で始まる"),
    ({"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-1", "ADVISOR_SLACK_API_URL": "http://127.0.0.1:9/api/"},
     "Slack に接続できません"),
])
@pytest.mark.subprocess
def test_advisor_slack_fails_clearly_without_usable_tokens(env, words, tmp_path):
    base = {"PATH": "/usr/bin:/bin", "ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path}/s.db",
            "ADVISOR_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "bot.cli", "slack"], capture_output=True, text=True, env=base | env,
                         cwd=ROOT, timeout=60)
    assert out.returncode == 1
    assert words in out.stderr and "Traceback" not in out.stderr


class FakeSlack:
    """The WebClient methods an answer uses, recording calls; ChatStream (slack_sdk's streaming helper) runs on it."""

    def __init__(self, refuse_stream: bool = False) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.refuse_stream = refuse_stream

    def _call(self, method: str, **params) -> dict:
        self.calls.append((method, params))
        if method == "chat.startStream" and self.refuse_stream:
            from slack_sdk.errors import SlackApiError

            raise SlackApiError("refused", {"ok": False, "error": "not_allowed_token_type"})
        return {"ok": True, "channel": params.get("channel"), "ts": "1800000000.000100"}

    def assistant_threads_setStatus(self, **p):
        return self._call("assistant.threads.setStatus", **p)

    def chat_stream(self, **p):
        import logging

        from slack_sdk.web.chat_stream import ChatStream

        return ChatStream(self, logger=logging.getLogger("test"), **p)

    def chat_startStream(self, **p):
        return self._call("chat.startStream", **p)

    def chat_appendStream(self, **p):
        return self._call("chat.appendStream", **p)

    def chat_stopStream(self, **p):
        return self._call("chat.stopStream", **p)

    def chat_postMessage(self, **p):
        return self._call("chat.postMessage", **p)

    def chat_update(self, **p):
        return self._call("chat.update", **p)


class FakeAdvisor:
    """An engine whose answerer generates: stream() gives the events of one answer, sentence by sentence."""

    def __init__(self, final: Answer) -> None:
        self.final = final
        self.answerer = type("Generative", (), {"stream": lambda self: None})()

    def check(self, question: str) -> None:
        pass

    def stream(self, question, history=None, persona=None):
        from bot.schema import Event

        yield Event("status", text="資料を検索しています…")
        yield Event("citation", citation=self.final.citations[0])
        for line in self.final.answer.split("\n"):
            yield Event("delta", text=line + "\n")
        yield Event("done", answer=self.final)


def streamed(fake: FakeSlack) -> list[tuple[str, str]]:
    """(method, markdown it sent) for each chat.* call (the chunks are slack_sdk's MarkdownTextChunk objects)."""
    return [(m, "".join(c.text for c in p.get("chunks") or [])) for m, p in fake.calls if m.startswith("chat.")]


def test_streamed_updates_are_paced_by_the_interval(tmp_path):
    final = answer("上限は4,500万円です。[1]\n補助率は2/3です。[1]\n期間は2年です。[1]", [citation(1)])
    settings = Settings(_env_file=None, slack_stream_interval=1.0)
    store = Store(f"sqlite:///{tmp_path}/s.db")
    times = iter([0.0, 0.5, 0.7])  # the second and third sentences come within a second of the first
    fake = FakeSlack()
    slack = slack_app.SlackAdvisor(settings, FakeAdvisor(final), store, clock=lambda: next(times))
    slack.answer(fake, {}, team="T1", channel="C1", thread_ts="1700000000.000001", text="<@U1> 上限は？", user="U2")
    assert streamed(fake) == [("chat.startStream", "上限は4,500万円です。[1]"),
                              ("chat.stopStream", "  \n補助率は2/3です。[1]  \n期間は2年です。[1]")]
    start, stop = fake.calls[1][1], fake.calls[2][1]
    assert start["recipient_user_id"] == "U2" and start["recipient_team_id"] == "T1"
    [message_id] = {b["value"] for b in stop["blocks"][-1]["elements"]}
    assert stop["blocks"] == render_answer(final, message_id)[0].blocks[1:]  # sources and buttons, no text
    # With the interval passed each time, every sentence is its own append.
    times = iter([0.0, 1.0, 2.0])
    fake = FakeSlack()
    slack = slack_app.SlackAdvisor(settings, FakeAdvisor(final), store, clock=lambda: next(times))
    slack.answer(fake, {}, team="T1", channel="C1", thread_ts="1700000000.000002", text="上限は？", user="U2")
    assert [m for m, _ in streamed(fake)] == ["chat.startStream", "chat.appendStream", "chat.appendStream",
                                              "chat.stopStream"]


def test_a_refused_stream_posts_the_answer_when_complete(tmp_path):
    final = answer("上限は4,500万円です。[1]\n補助率は2/3です。[1]", [citation(1)])
    fake = FakeSlack(refuse_stream=True)
    slack = slack_app.SlackAdvisor(Settings(_env_file=None, slack_stream_interval=0.0), FakeAdvisor(final),
                                   Store(f"sqlite:///{tmp_path}/s.db"))
    slack.answer(fake, {}, team="T1", channel="C1", thread_ts="1700000000.000003", text="上限は？", user="U2")
    methods = [m for m, _ in fake.calls]
    assert methods == ["assistant.threads.setStatus", "chat.startStream", "chat.postMessage"]
    post = fake.calls[-1][1]
    assert post["text"] == final.answer and post["blocks"][-1]["type"] == "actions"
