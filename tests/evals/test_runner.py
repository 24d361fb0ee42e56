import json
import re

from tests.bot.test_cli import check_shapes, run_cli
from tests.conftest import ROOT

SEED = ROOT / "evals" / "datasets" / "seed_qa.jsonl"


def small_dataset(tmp_path, n_answerable=5, n_unanswerable=2):
    rows = [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines()]
    pick = [r for r in rows if r["source"]][:n_answerable] + [r for r in rows if not r["source"]][:n_unanswerable]
    pick.append(next(r for r in rows if r["type"] == "followup"))
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in pick) + "\n", encoding="utf-8")
    return path, pick


def test_eval_writes_records_metrics_and_report(corpus_settings, tmp_path):
    dataset, items = small_dataset(tmp_path)
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    res = run_cli(["eval", "--dataset", str(dataset), "--json", str(out), "--html", str(page), "-q"], corpus_settings)
    assert res.returncode == 0, res.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in result["items"]] == [r["id"] for r in items]
    overall = result["metrics"]["overall"]
    for key in ("recall@1", "recall@5", "recall@10", "mrr@10", "facts_found", "all_facts", "citation_precision",
                "cited_hit", "refusal_accuracy", "false_refusal", "latency_p50_ms", "latency_p95_ms"):
        assert key in overall
    assert set(result["metrics"]) >= {"by_type", "by_persona", "by_source"}
    assert all(len(r["retrieved"]) <= 10 for r in result["items"])
    check_shapes("eval", out.read_text(encoding="utf-8"))

    html = page.read_text(encoding="utf-8")
    assert "<svg" in html and "Recall@5" in html
    assert not re.search(r"""(src|href)=["']?https?:""", html), "the report must not load anything from the network"

    again = tmp_path / "r2.html"
    res = run_cli(["eval", "--dataset", str(dataset), "--html", str(again), "--baseline", str(out), "-q"],
                  corpus_settings)
    assert res.returncode == 0 and "ベースラインとの比較" in again.read_text(encoding="utf-8")


def test_eval_gate_fails_below_threshold(corpus_settings, tmp_path):
    dataset, _ = small_dataset(tmp_path, 2, 0)
    gate = tmp_path / "t.toml"
    gate.write_text("[overall]\n\"recall@5\" = 1.01\n", encoding="utf-8")
    res = run_cli(["eval", "--dataset", str(dataset), "--gate", str(gate), "-q"], corpus_settings)
    assert res.returncode == 1 and "quality gate failed" in res.stderr and "recall@5" in res.stderr


def test_eval_rejects_an_invalid_dataset(corpus_settings, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1"}\n', encoding="utf-8")
    res = run_cli(["eval", "--dataset", str(bad)], corpus_settings)
    assert res.returncode == 1 and "invalid dataset" in res.stderr
