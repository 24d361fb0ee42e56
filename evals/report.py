"""A self-contained HTML report of an eval run: headline metrics, charts by type and source, failures,
and item-by-item changes against a baseline run. No scripts, fonts or images from the network."""

from __future__ import annotations

import html
from collections.abc import Sequence

HEADLINE = [
    ("recall@5", "Recall@5"), ("mrr@10", "MRR@10"), ("all_facts", "全事実を含む回答"),
    ("facts_found", "事実の含有率"), ("citation_precision", "引用の適合率"), ("cited_hit", "正しい出典を引用"),
    ("refusal_accuracy", "回答不能の正答率"), ("false_refusal", "誤った回答拒否"),
    ("latency_p50_ms", "p50 ms"), ("latency_p95_ms", "p95 ms"),
]
CHART_METRICS = [("recall@5", "#2f6fde"), ("all_facts", "#1a9e5c"), ("cited_hit", "#c77700")]

CSS = """
body{font-family:"Noto Sans CJK JP","Hiragino Sans",sans-serif;margin:2rem;color:#1d1d1f;max-width:1200px}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
.cards{display:flex;flex-wrap:wrap;gap:.6rem}.card{border:1px solid #ddd;border-radius:8px;padding:.6rem .9rem;min-width:8rem}
.card b{display:block;font-size:1.3rem}.card.fail{border-color:#d33;background:#fff3f3}
table{border-collapse:collapse;width:100%;font-size:.85rem}td,th{border:1px solid #e3e3e3;padding:.3rem;vertical-align:top;text-align:left}
th{background:#f6f6f6}.better{color:#1a7f37}.worse{color:#c21}.small{color:#666;font-size:.8rem}
.legend span{display:inline-block;margin-right:1rem}.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem}
"""


def _fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if isinstance(v, float) and v <= 1.0 else str(v)


def _esc(s) -> str:
    return html.escape(str(s if s is not None else ""))


def _bar_chart(groups: dict[str, dict], title: str) -> str:
    """Grouped horizontal bars, one row per group, drawn as inline SVG."""
    names = list(groups)
    row_h, label_w, width = 18 * len(CHART_METRICS) + 10, 170, 520
    height = row_h * len(names) + 30
    parts = [f'<svg role="img" aria-label="{_esc(title)}" width="{label_w + width + 60}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="11">']
    for i, name in enumerate(names):
        y0 = 10 + i * row_h
        parts.append(f'<text x="0" y="{y0 + row_h / 2}">{_esc(name[:26])} (n={groups[name]["items"]})</text>')
        for j, (metric, color) in enumerate(CHART_METRICS):
            v = groups[name].get(metric)
            w = 0 if v is None else v * width
            y = y0 + j * 18
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="14" fill="{color}"/>')
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 11}">{_fmt(v)}</text>')
    parts.append("</svg>")
    legend = "".join(f'<span><i style="background:{c}"></i>{m}</span>' for m, c in CHART_METRICS)
    return f'<h3>{_esc(title)}</h3><div class="legend">{legend}</div>' + "".join(parts)


def _is_failure(r: dict) -> bool:
    if not r["source"]:
        return not r["refused"]
    return r["refused"] or not all(r["facts"]) or r["hit_rank"] is None or r["hit_rank"] > 5


def _failure_rows(items: Sequence[dict]) -> str:
    rows = []
    for r in items:
        if not _is_failure(r) or r.get("split") == "heldout":  # held-out items are read in aggregate only
            continue
        retrieved = "<br>".join(
            f'{i}. {_esc(p["source"])}:{p["start_line"]}-{p["end_line"]} {_esc(p["text"][:60])}'
            for i, p in enumerate(r["retrieved"][:5], 1)
        )
        facts = ", ".join(f'{"✔" if ok else "✘"} {_esc(f)}' for f, ok in zip(r["must_include"], r["facts"], strict=False))
        why = ("回答すべきでない質問に回答" if not r["source"] else "回答を拒否" if r["refused"]
               else "根拠が上位5件にない" if not r["hit_rank"] or r["hit_rank"] > 5 else "事実が不足")
        rows.append(
            f'<tr><td>{_esc(r["id"])}<div class="small">{_esc(r["type"])} / {_esc(r["persona"])}</div></td>'
            f'<td>{_esc(r["question"])}<div class="small">期待: {_esc(r.get("expected", ""))}</div></td>'
            f'<td>{_esc(why)}<div class="small">{facts}</div><div class="small">正解の順位: {_fmt(r["hit_rank"])}</div></td>'
            f'<td>{_esc(r["answer"])}</td><td class="small">{retrieved}</td></tr>'
        )
    if not rows:
        return "<p>失敗した項目はありません。</p>"
    return ("<table><tr><th>ID</th><th>質問</th><th>理由</th><th>回答</th><th>検索結果（上位5件）</th></tr>"
            + "".join(rows) + "</table>")


def _baseline_section(current: dict, baseline: dict, title: str = "ベースラインとの比較",
                      old_label: str = "ベースライン", new_label: str = "今回") -> str:
    old_m, new_m = baseline["metrics"]["overall"], current["metrics"]["overall"]
    rows = []
    for key, label in [*HEADLINE, ("notice_rate", "LLMを使えず引用で回答")]:
        a, b = old_m.get(key), new_m.get(key)
        if a is None or b is None:
            continue
        higher_better = key not in {"false_refusal", "latency_p50_ms", "latency_p95_ms"}
        cls = "" if a == b else "better" if (b > a) == higher_better else "worse"
        rows.append(f'<tr><td>{label}</td><td>{_fmt(a)}</td><td class="{cls}">{_fmt(b)}</td></tr>')
    old_items = {r["id"]: r for r in baseline["items"]}
    changes = []
    for r in current["items"]:
        o = old_items.get(r["id"])
        if o is None:
            continue
        before, after = _is_failure(o), _is_failure(r)
        if before != after:
            cls, word = ("better", "改善") if before else ("worse", "悪化")
            changes.append(f'<tr><td class="{cls}">{word}</td><td>{_esc(r["id"])}</td><td>{_esc(r["question"])}</td>'
                           f'<td class="small">{_esc(o["answer"][:120])}</td><td class="small">{_esc(r["answer"][:120])}</td></tr>')
    table = (f"<table><tr><th>変化</th><th>ID</th><th>質問</th><th>{_esc(old_label)}の回答</th>"
             f"<th>{_esc(new_label)}の回答</th></tr>"
             + "".join(changes) + "</table>") if changes else "<p>項目ごとの合否に変化はありません。</p>"
    return (f"<h2>{_esc(title)}</h2><table><tr><th>指標</th><th>{_esc(old_label)}</th><th>{_esc(new_label)}</th></tr>"
            + "".join(rows) + "</table><h3>項目ごとの変化</h3>" + table)


def _modes_section(current: dict, other: dict) -> str:
    """The same dataset through two answerers (extractive and llm), side by side."""
    a, b = other.get("answerer") or "?", current.get("answerer") or "?"
    return _baseline_section(current, other, f"回答方式の比較（{a} と {b}）", a, b)


def render_html(result: dict, baseline: dict | None = None, thresholds: dict | None = None,
                title: str = "subsidy-advisor 評価レポート") -> str:
    overall = result["metrics"]["overall"]
    thresholds = thresholds or {}
    cards = []
    for key, label in HEADLINE:
        v = overall.get(key)
        fail = key in thresholds and v is not None and not meets(key, v, thresholds[key])
        cards.append(f'<div class="card{" fail" if fail else ""}">{label}<b>{_fmt(v)}</b>'
                     + (f'<span class="small">基準 {thresholds[key]}</span>' if key in thresholds else "") + "</div>")
    body = [
        f"<h1>{_esc(title)}</h1>",
        f'<p class="small">{overall["items"]} 問（回答可能 {overall["answerable"]}、回答不能 {overall["unanswerable"]}）、'
        f'k={result["metrics"].get("k", 5)}{"、回答方式: " + _esc(result.get("answerer")) if result.get("answerer") else ""}</p>',
        '<div class="cards">' + "".join(cards) + "</div>",
        "<h2>種類別・出典別</h2>",
        _bar_chart(result["metrics"]["by_type"], "質問の種類別"),
        _bar_chart(result["metrics"]["by_source"], "出典文書別"),
        _bar_chart(result["metrics"]["by_persona"], "利用者別"),
    ]
    if result.get("compare"):
        body.append(_modes_section(result, result["compare"]))
    if baseline:
        modes = baseline.get("answerer"), result.get("answerer")
        if all(modes) and modes[0] != modes[1]:  # a baseline run with the other answerer
            body.append(_baseline_section(result, baseline, f"回答方式の比較（ベースライン {modes[0]} と 今回 {modes[1]}）",
                                          f"ベースライン（{modes[0]}）", f"今回（{modes[1]}）"))
        else:
            body.append(_baseline_section(result, baseline))
    body += ["<h2>失敗した項目</h2>", _failure_rows(result["items"])]
    return (f'<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>{_esc(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f'<body>{"".join(body)}</body></html>')


LOWER_IS_BETTER = {"false_refusal", "latency_p50_ms", "latency_p95_ms", "asked_when_not_needed", "questions_per_situation"}


def meets(metric: str, value: float, threshold: float) -> bool:
    return value <= threshold if metric in LOWER_IS_BETTER else value >= threshold


def gate(overall: dict, thresholds: dict) -> list[str]:
    """Metrics that miss their threshold, as readable lines (empty: the gate passes)."""
    failures = []
    for metric, threshold in thresholds.items():
        value = overall.get(metric)
        if value is None or not meets(metric, value, threshold):
            op = "<=" if metric in LOWER_IS_BETTER else ">="
            failures.append(f"{metric} = {value} (needs {op} {threshold})")
    return failures
