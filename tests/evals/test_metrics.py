from evals.metrics import facts_found, first_hit_rank, is_hit, overlaps_evidence, percentile, summarize
from evals.report import gate


def test_evidence_overlap_rules():
    assert overlaps_evidence("本事業の補助率は２／３以内とする。", "補助率は2/3以内")  # inside, after NFKC
    assert overlaps_evidence("前半だけ：中小企業の研究開発を支援する事業であり", "中小企業の研究開発を支援する事業であり、後半は別の行")
    assert not overlaps_evidence("中小企業の研究開発", "中小企業の研究開発を支援する事業であり、後半は別の行にある長い根拠")
    assert not overlaps_evidence("まったく別の文章です", "補助率は2/3以内")


def test_hit_requires_the_right_source():
    p = {"source": "a.txt", "text": "補助上限額は4,500万円。"}
    assert is_hit(p, "a.txt", ["補助上限額は4,500万円"])
    assert not is_hit(p, "b.txt", ["補助上限額は4,500万円"])
    assert first_hit_rank([{"source": "b.txt", "text": ""}, p], "a.txt", ["補助上限額は4,500万円"]) == 2
    assert first_hit_rank([p], "a.txt", ["別の根拠の文字列です"]) is None


def test_facts_with_equivalent_forms():
    assert facts_found("補助率は3分の2、上限は4500万円（令和2年度）", ["2/3", "4,500万円", "R2"]) == [True, True, True]
    assert facts_found("補助率は1/2", ["2/3"]) == [False]


def record(source, hit_rank, facts, refused, citation_hits, latency=10.0, type_="fact"):
    return {"source": source, "hit_rank": hit_rank, "facts": facts, "must_include": ["x"] * len(facts),
            "refused": refused, "citation_hits": citation_hits, "latency_ms": latency, "type": type_}


def test_summary_metrics():
    records = [
        record("a.txt", 1, [True, True], False, [True]),
        record("a.txt", 3, [True, False], False, [False, True]),
        record("a.txt", None, [False], True, []),
        record(None, None, [], True, [], type_="unanswerable"),
        record(None, None, [], False, [], type_="unanswerable"),
    ]
    m = summarize(records)
    assert m["recall@1"] == round(1 / 3, 4) and m["recall@5"] == round(2 / 3, 4)
    assert m["mrr@10"] == round((1 + 1 / 3) / 3, 4)
    assert m["all_facts"] == round(1 / 3, 4) and m["facts_found"] == round((1 + 0.5 + 0) / 3, 4)
    assert m["citation_precision"] == round(2 / 3, 4) and m["cited_hit"] == round(2 / 3, 4)
    assert m["refusal_accuracy"] == 0.5 and m["false_refusal"] == round(1 / 3, 4)
    assert percentile([1, 2, 3, 4], 0.5) == 2.5


def test_gate_and_report():
    overall = {"recall@5": 0.92, "false_refusal": 0.08}
    assert gate(overall, {"recall@5": 0.9}) == []
    assert gate(overall, {"recall@5": 0.95, "false_refusal": 0.05}) == [
        "recall@5 = 0.92 (needs >= 0.95)", "false_refusal = 0.08 (needs <= 0.05)"]
    assert gate({}, {"mrr@10": 0.7}) == ["mrr@10 = None (needs >= 0.7)"]
