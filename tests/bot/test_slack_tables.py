"""Catalogue tables in Slack: Slack's mrkdwn has no tables, so a comparison becomes one bold line per program
with 「• 列名：値 [n]」 per cell, inside Block Kit's limits."""

import json
import re

from bot.slack.blocks import MAX_BLOCKS, SECTION_CHARS, render_answer, tables_as_lists


def test_tables_as_lists_keeps_every_cell_and_marker():
    text = ("比較します。\n\n| 事業 | 予算額 | 補助率 |\n|---|---|---|\n| Go-Tech事業 [1] | 128億円 [2] | 2/3 [3] |\n"
            "| よろず支援拠点 [4] | 35億円 [5] | 記載なし |\n\n注記です。")
    out = tables_as_lists(text)
    assert "|" not in out
    assert "*Go-Tech事業* [1]\n• 予算額：128億円 [2]\n• 補助率：2/3 [3]" in out
    assert "• 補助率：記載なし" in out and out.startswith("比較します。") and out.endswith("注記です。")
    assert tables_as_lists("表のない回答[1]") == "表のない回答[1]"


def test_a_comparison_answer_renders_readably_in_slack(advisor):
    answer = advisor.ask("ものづくり補助金とIT導入補助金の違いは？")
    assert "|---" in answer.answer
    messages = render_answer(answer, "0" * 32)
    blocks = [b for m in messages for b in m.blocks]
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    body = "\n".join(sections)
    assert "|" not in body  # no raw markdown table
    assert re.search(r"\*ものづくり・商業・サービス生産性向上促進事業（ものづくり補助金）\*  \*\[1\]\*", body)
    assert "• 補助率：2/3  *[" in body and "• 補助上限：30万～450万円(※)  *[" in body
    cited = {int(n) for n in re.findall(r"\*\[(\d+)\]\*", body)}
    assert cited == {c.n for c in answer.citations}  # every citation still marked, each one real
    assert all(len(s) <= SECTION_CHARS for s in sections) and all(len(m.blocks) <= MAX_BLOCKS for m in messages)
    assert any(b["type"] == "actions" for b in messages[-1].blocks)  # sources, disclaimer and buttons follow
    json.dumps([m.blocks for m in messages])  # plain JSON for chat.postMessage
