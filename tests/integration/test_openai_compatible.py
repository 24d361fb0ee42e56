"""The real LangChain OpenAI client (init_chat_model -> ChatOpenAI -> openai -> httpx) against a local
OpenAI-compatible stand-in server on 127.0.0.1: grounded answers with and without streaming, verification,
follow-up rewriting, and the fallbacks on 429, 500, a timeout and a stall mid-stream."""

import json
import logging
import re

import pytest

from bot.engine import Advisor
from tests.integration.openai_standin import INVENTED, StandIn, first_sentence

KEY = "sk-test-SECRET-0123456789"


@pytest.fixture(scope="module")
def server():
    s = StandIn().start()
    yield s
    s.stop()


@pytest.fixture
def llm(advisor, server):
    """An Advisor configured for an OpenAI-compatible endpoint, sharing the session's index."""
    server.reset()

    def make(**overrides) -> Advisor:
        settings = advisor.settings.model_copy(update={
            "answerer": "llm", "llm_provider": "openai_compatible", "llm_base_url": server.url,
            "llm_model": "stand-in-model", "llm_api_key": KEY, "llm_timeout": 1.0, "llm_max_retries": 0,
            "llm_cooldown": 0.0, **overrides})
        from pydantic import SecretStr

        settings.llm_api_key = SecretStr(KEY)
        a = Advisor(settings)
        a._retriever = advisor.retriever
        return a

    return make


QUESTION = "サポイン事業の補助上限額と補助率は？"


def cli_env(server, corpus_settings) -> dict:
    """The environment of an `advisor` process using the session's index and the stand-in as its model."""
    import os

    env = {**os.environ, "ADVISOR_DATA_DIR": str(corpus_settings.data_dir),
           "ADVISOR_CORPUS_DIR": str(corpus_settings.corpus_dir), "ADVISOR_LLM_PROVIDER": "openai_compatible",
           "ADVISOR_LLM_BASE_URL": server.url, "ADVISOR_LLM_MODEL": "stand-in-model", "ADVISOR_LLM_API_KEY": KEY,
           "ADVISOR_LLM_MAX_RETRIES": "0"}
    env.pop("CHROMA_HOST", None)
    return env


def chat_requests(server):
    return [r for r in server.requests if r["path"] == "/v1/chat/completions"]


def test_grounded_answer_over_http(llm, server, advisor):
    answer = llm().ask(QUESTION)
    hits = advisor.search(QUESTION)
    (request,) = chat_requests(server)
    body = request["body"]
    assert body["model"] == "stand-in-model" and not body.get("stream")
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    user = body["messages"][1]["content"]
    p = hits[0].passage
    assert f'<passage n="1" source="{p.source}" lines="{p.start_line}-{p.end_line}"' in user
    assert f"<question>\n{QUESTION}\n</question>" in user
    # The stand-in quoted passages 1 and 2 and invented a sentence: the invention is gone.
    assert not answer.refused and answer.notice is None
    lines = answer.answer.splitlines()
    assert lines[0] == f"{first_sentence(p.text)}[1]"
    assert all(INVENTED not in line for line in lines) and "10分の10" not in answer.answer
    assert answer.citations[0].source == p.source and answer.citations[0].start_line == p.start_line


def test_streamed_answer_over_http(llm, server):
    events = list(llm().stream(QUESTION))
    (request,) = chat_requests(server)
    assert request["body"]["stream"] is True
    kinds = [e.type for e in events]
    assert kinds[0] == "status" and kinds[-1] == "done" and kinds.index("citation") < kinds.index("delta")
    done = events[-1].answer
    deltas = [e.text for e in events if e.type == "delta"]
    assert len(deltas) >= 2 and "".join(deltas).strip() == done.answer.strip()
    assert INVENTED not in done.answer and done.notice is None


@pytest.mark.parametrize("mode, words", [("429", "混雑"), ("500", "接続エラー"), ("slow", "時間切れ")])
def test_provider_failure_gives_the_extractive_answer_with_a_notice(llm, server, advisor, caplog, mode, words):
    server.mode, server.delay = mode, 3.0
    with caplog.at_level(logging.DEBUG):
        answer = llm().ask(QUESTION)
        events = list(llm().stream(QUESTION))
    plain = advisor.ask(QUESTION)
    assert answer.answer == plain.answer and not answer.refused
    assert answer.notice and words in answer.notice
    done = events[-1].answer
    assert done.answer == plain.answer and done.notice == answer.notice
    assert len(chat_requests(server)) == 2  # no retries configured
    assert "answering extractively" in caplog.text
    assert KEY not in caplog.text and KEY[8:] not in caplog.text


def test_retries_are_the_clients(llm, server):
    server.mode = "500"
    answer = llm(llm_max_retries=1).ask(QUESTION)
    assert answer.notice and len(chat_requests(server)) == 2


def test_a_stall_mid_stream_ends_with_the_extractive_answer(llm, server, advisor):
    server.mode, server.delay = "stall", 3.0
    events = list(llm().stream(QUESTION))
    plain = advisor.ask(QUESTION)
    done = events[-1].answer
    assert done.answer == plain.answer and "時間切れ" in done.notice
    assert any(e.type == "delta" for e in events)  # a verified sentence had already been shown
    assert events[-2].type == "status" and events[-2].text == done.notice  # and the client is told it changed


def test_followup_rewriting_over_http(llm, server, advisor):
    first_q = "成長型中小企業等研究開発支援事業（Go-Tech事業）の令和6年度予算額はいくらですか？"
    history = [{"role": "user", "content": first_q}, {"role": "assistant", "content": "128億円です。[1]"}]
    answer = llm().ask("その補助率は？", history=history)
    rewrite, generate = chat_requests(server)
    assert "<history>" in rewrite["body"]["messages"][1]["content"]
    standalone = "成長型中小企業等研究開発支援事業（Go-Tech事業）の補助率は？"
    assert f"<question>\n{standalone}" in generate["body"]["messages"][1]["content"]
    assert not answer.refused and any("Go-Tech" in c.section or "研究開発支援事業" in c.section
                                      for c in answer.citations)
    assert [r.text for r in answer.retrieved[:3]] == [h.passage.text for h in advisor.search(standalone)[:3]]


def test_web_stream_done_event_carries_the_notice(llm, server, corpus_settings, tmp_path):
    from fastapi.testclient import TestClient

    from bot.web.app import create_app

    server.mode = "500"
    settings = corpus_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'web.db'}",
                                                  "rate_limit": ""})
    app = create_app(settings, advisor=llm(), warm_up=False)
    with TestClient(app) as client:
        res = client.post("/api/chat/stream", json={"question": QUESTION})
        done = [json.loads(block.split("data: ", 1)[1]) for block in res.text.split("\n\n")
                if block.startswith("event: done")]
        assert done and "接続エラー" in done[0]["notice"]
        res = client.post("/api/chat", json={"question": QUESTION})
        assert "接続エラー" in res.json()["notice"]


def test_eval_runs_the_dataset_through_both_answerers(server, corpus_settings, tmp_path):
    import subprocess
    import sys

    from tests.bot.test_cli import check_shapes
    from tests.conftest import ROOT
    from tests.evals.test_runner import small_dataset

    server.reset()
    dataset, items = small_dataset(tmp_path, 3, 1)
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    env = cli_env(server, corpus_settings)
    res = subprocess.run([sys.executable, "-m", "bot.cli", "eval", "--answerer", "both", "--dataset", str(dataset),
                          "--json", str(out), "--html", str(page), "-q"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "extractive" in res.stdout and "llm" in res.stdout and KEY not in res.stdout + res.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["answerer"] == result["metrics"]["answerer"] == "llm"
    assert result["compare"]["answerer"] == "extractive"
    assert [r["id"] for r in result["items"]] == [r["id"] for r in items]
    check_shapes("eval", out.read_text(encoding="utf-8"))
    asked = [r["body"]["messages"][-1]["content"] for r in chat_requests(server)]
    assert len(asked) >= 3 and all("<passages>" in a or "<history>" in a for a in asked)
    answered = [r for r in result["items"] if not r["refused"]]
    assert answered and all(r["citations"] and "notice" not in r for r in answered)
    assert all(INVENTED not in r["answer"] for r in result["items"])
    html = page.read_text(encoding="utf-8")
    assert "回答方式の比較（extractive と llm）" in html and "回答方式: llm" in html


PAPERLESS = "注文を電話とFAXで受けていて手間がかかるので、なんとかしたい小さな店です。使える補助金はありますか"


def test_finder_reads_and_judges_through_the_openai_client(llm, server, advisor):
    rules = advisor.find(PAPERLESS, ask=False)
    server.replies.append('{"goals": [{"value": "IT化", "quote": "注文を電話とFAXで受けていて"}], "industry": null}')
    r = llm().find(PAPERLESS, ask=False)
    reading, judging = [q["body"]["messages"] for q in chat_requests(server)]
    assert [m["role"] for m in reading] == ["system", "user"] and "IT化" in reading[0]["content"]  # its labels
    assert "<message>\n" + PAPERLESS in reading[1]["content"]
    judging = judging[-1]["content"]
    shown = re.findall(r'<program n="(\d+)">\n名称: (.+)', judging)
    assert [int(n) for n, _ in shown] == list(range(1, len(shown) + 1)) and len(shown) >= len(r.programs)
    assert "IT化" in r.profile["goals"] and "IT化" not in rules.profile.get("goals", [])
    assert r.programs and all(p.fit == "maybe" for p in r.programs)  # the stand-in judges every one "maybe"
    assert {p.name for p in r.programs} <= {name for _, name in shown}  # the model adds no program
    assert all(reason.citations for p in r.programs for reason in p.reasons) and not r.notice


def test_finder_keeps_the_rules_result_when_the_model_times_out(llm, server, advisor):
    situation = "震災で被害を受けた福島の店で、資金繰りが苦しい"
    rules = advisor.find(situation, ask=False)
    server.reset(mode="slow")
    a = llm()
    r = a.find(situation, ask=False)
    assert [p.name for p in r.programs] == [p.name for p in rules.programs] and "時間切れ" in r.notice
    answer = a.ask(situation + "。合う制度はありますか")
    assert answer.answer.startswith("ご状況") and "時間切れ" in answer.notice and "規則だけで" in answer.notice


def test_finder_eval_reports_rules_and_llm_side_by_side(server, corpus_settings, tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    server.reset()
    lines = (ROOT / "evals/datasets/finder.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    dataset, out = tmp_path / "finder.jsonl", tmp_path / "finder.json"
    dataset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = cli_env(server, corpus_settings)
    res = subprocess.run([sys.executable, "-m", "bot.cli", "eval", "--answerer", "both", "--dataset", str(dataset),
                          "--json", str(out), "-q"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "rules" in res.stdout and "with LLM" in res.stdout and KEY not in res.stdout + res.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    with_llm, rules = result["metrics"]["finder"], result["compare"]["metrics"]["finder"]
    assert rules["llm_requests"] == 0 and with_llm["llm_requests"] >= 3 and with_llm["llm_failed"] == 0.0
    assert len(chat_requests(server)) == with_llm["llm_requests"]
    assert {r["id"] for r in result["finder_items"]} == {json.loads(line)["id"] for line in lines}


def test_the_finder_shares_the_answerers_model_and_its_cooldown(llm, server):
    a = llm(llm_cooldown=60.0)
    assert a.finder.llm.chat is a.answerer.chat  # one model, one cooldown per process
    server.reset(mode="500")
    assert "接続エラー" in a.ask(QUESTION).notice
    sent = len(chat_requests(server))
    r = a.find("震災で被害を受けた福島の店で、資金繰りが苦しい", ask=False)
    assert len(chat_requests(server)) == sent and "直前の接続エラー" in r.notice and r.programs
