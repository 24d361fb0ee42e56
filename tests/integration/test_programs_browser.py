"""The /programs page and a comparison table in the chat, in a real browser against a real server.

Filters the catalogue, sorts it, opens a cited cell in the source viewer, and asks the chat a comparison
question whose answer must render as a table with working citation links. Screenshots go to the folder
printed at the start (run with -s). Any console error or CSP violation fails the test.
"""

from __future__ import annotations

import re

import pytest

from tests.integration.test_browser import Watch, browser, server, shots  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
ANSWER_TIMEOUT = 90_000


def test_programs_page_filter_sort_and_open_a_cited_cell(server, browser, shots):  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="ja-JP")
    watch = Watch(context)
    page = watch.new_page()
    response = page.goto(server.url + "/programs")
    assert response.ok and "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    rows = page.locator("#rows tr")
    expect(rows.first).to_have_attribute("data-id", re.compile(".+"))
    total = rows.count()
    assert total >= 100
    expect(page.locator("#count")).to_contain_text(f"{total} 件")
    page.screenshot(path=shots / "programs-01-all.png")

    # filter by a nickname (full-width letters are folded like NFKC)
    page.locator("#filter-text").fill("Ｇｏ－Ｔｅｃｈ")
    expect(rows.first.locator("th")).to_contain_text("成長型中小企業等研究開発支援事業")
    assert rows.count() < total

    # kind and 新規 filters
    page.locator("#filter-text").fill("")
    page.locator("#filter-new").check()
    expect(page.locator("#count")).to_contain_text(re.compile(r"^\d+ 件"))
    budgets = page.locator("#rows td.col-budget").all_inner_texts()
    assert budgets and all("新規" in b for b in budgets)
    page.locator("#filter-new").uncheck()
    page.locator("#filter-kind").select_option("基金")
    kinds = page.locator("#rows td.col-kind").all_inner_texts()
    assert kinds and set(kinds) == {"基金"}
    page.locator("#filter-kind").select_option("")

    # sort by budget: the largest first
    page.locator("button.sort[data-key='budget']").click()
    expect(page.locator("th[aria-sort='descending']")).to_have_count(1)
    first_budget = page.locator("#rows td.col-budget").first.inner_text()
    assert "兆" in first_budget or "億円" in first_budget

    # open a cited cell: the rate of Go-Tech, highlighted at its lines in the source viewer
    page.locator("#filter-text").fill("Go-Tech")
    row = page.locator("#rows tr[data-id='成長型中小企業等研究開発支援事業｜令和6年度予算額']")
    cell = row.locator("td.col-rate button.cell-cite")
    expect(cell).to_contain_text("2/3")
    cell.click()
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    expect(panel).to_be_focused()
    expect(page.locator("#panel-meta")).to_contain_text("補助率")
    cited = panel.locator(".source-line.cited")
    expect(cited.first).to_contain_text("補助率")
    expect(cited.first).to_contain_text("2/3")
    page.screenshot(path=shots / "programs-02-cited-cell.png")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(cell).to_be_focused()
    assert not watch.problems, watch.problems
    context.close()


def test_chat_renders_a_comparison_table(server, browser, shots):  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="ja-JP")
    watch = Watch(context)
    page = watch.new_page()
    page.goto(server.url + "/")
    page.locator("#question").fill("ものづくり補助金とIT導入補助金の違いは？")
    page.locator("#question").press("Enter")
    answer = page.locator(".turn-bot").first
    expect(answer.locator(".feedback")).to_be_visible(timeout=ANSWER_TIMEOUT)
    table = answer.locator(".answer-table table")
    expect(table).to_be_visible()
    expect(table.locator("thead th")).to_have_count(6)
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody th").first).to_contain_text("ものづくり補助金")
    page.screenshot(path=shots / "programs-03-chat-table.png", full_page=True)
    table.locator("td a.cite").first.click()
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".source-line.cited").first).to_be_visible()
    assert not watch.problems, watch.problems
    context.close()
