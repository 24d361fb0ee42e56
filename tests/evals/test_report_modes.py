"""The HTML report with two answerers: a --answerer both run, and a baseline of the other mode."""

from evals.report import render_html


def run(answerer, facts, notice=False):
    item = {"id": "q1", "question": "補助率は？", "type": "fact", "persona": "sme", "source": "a.txt", "refused": False,
            "facts": [facts], "must_include": ["2/3"], "hit_rank": 1, "answer": f"{answerer}の回答[1]",
            "retrieved": [], "expected": "2/3"}
    overall = {"items": 1, "answerable": 1, "unanswerable": 0, "recall@5": 1.0, "all_facts": float(facts),
               "cited_hit": 1.0}
    if notice:
        overall["notice_rate"] = 0.0
    group = {"x": {**overall}}
    return {"answerer": answerer, "metrics": {"overall": overall, "by_type": group, "by_source": group,
                                              "by_persona": group, "k": 5, "answerer": answerer}, "items": [item]}


def test_both_modes_side_by_side():
    result = run("llm", True, notice=True)
    result["compare"] = run("extractive", False)
    html = render_html(result)
    assert "回答方式の比較（extractive と llm）" in html and "回答方式: llm" in html
    assert "<th>extractive</th><th>llm</th>" in html and "改善" in html


def test_a_baseline_of_the_other_mode_is_labelled_with_it():
    html = render_html(run("llm", True), baseline=run("extractive", True))
    assert "ベースライン（extractive）" in html and "今回（llm）" in html
    html = render_html(run("extractive", True), baseline=run("extractive", True))
    assert "ベースラインとの比較" in html and "回答方式の比較" not in html
