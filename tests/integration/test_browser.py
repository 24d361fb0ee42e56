"""The chat page in a real browser (Debian chromium driven by Playwright) against a real server and index.

Asks a question, follows the streamed answer, opens the cited passage, rates the answer and finds the rating in
the feedback export; then a phone-sized screen and the Japanese error messages. Screenshots are saved in the
folder printed at the start (run with -s to see it). Any console error or CSP violation fails the test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import CORPUS, ROOT
from tests.integration.browser_setup import Server, ensure_chromium, server_env

pytestmark = pytest.mark.browser

SAPOIN = "サポイン事業の補助上限額は？"
IT = "IT導入補助金の補助率は？"
COMMENT = "単年度と3年間の上限の違いをもっと詳しく知りたい"
ANSWER_TIMEOUT = 90_000  # ms; the first answer also loads the models

# Records CSP violations in the page; reported through the binding below (page.evaluate of strings is no help:
# the page's own CSP forbids eval, which is exactly what we test).
CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  window.reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-screenshots")
    print(f"\nbrowser screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def server(corpus_settings, tmp_path_factory):
    work = tmp_path_factory.mktemp("browser-server")
    env = server_env(corpus_settings.data_dir, CORPUS, f"sqlite:///{work / 'web.db'}")
    srv = Server(ROOT, env, work / "server.log")
    srv.wait_ready(timeout=120)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    chromium = ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium), headless=True)
        yield b
        b.close()


class Watch:
    """Console errors, uncaught exceptions, CSP violations and failed requests of one browser context."""

    def __init__(self, context, allow_console: str | None = None) -> None:
        self.problems: list[str] = []
        self.allow = re.compile(allow_console) if allow_console else None
        context.expose_binding("reportCspViolation", lambda source, text: self.problems.append(f"CSP: {text}"))
        context.add_init_script(CSP_LISTENER)
        self.context = context

    def attach(self, page) -> None:
        page.on("console", self.console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", lambda req: None if self.allow else self.problems.append(
            f"request failed: {req.method} {req.url} {req.failure}"))

    def console(self, msg) -> None:
        if msg.type != "error":
            return
        if "Content Security Policy" in msg.text or not (self.allow and self.allow.search(msg.text)):
            self.problems.append(f"console {msg.type}: {msg.text}")

    def new_page(self):
        page = self.context.new_page()
        self.attach(page)
        return page


def test_question_citation_and_feedback(server, browser, shots):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="ja-JP")
    watch = Watch(context)
    page = watch.new_page()

    response = page.goto(server.url + "/")
    assert response.ok
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page).to_have_title(re.compile("補助金"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator(".example")).to_have_count(4)
    expect(page.locator("#disclaimer")).to_contain_text("最新の公募要領")
    expect(page.locator("#conversation")).to_have_attribute("aria-live", "polite")
    page.screenshot(path=shots / "01-start.png")

    # Shift+Enter is a newline and sends nothing
    box = page.locator("#question")
    box.click()
    page.keyboard.type("一行目")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("二行目")
    expect(box).to_have_value("一行目\n二行目")
    expect(page.locator(".turn-user")).to_have_count(0)
    box.fill("")

    # Enter sends; the answer streams in with citation markers as links
    box.fill(SAPOIN)
    with page.expect_request("**/api/chat/stream") as first_request:
        box.press("Enter")
    assert first_request.value.post_data_json == {"question": SAPOIN, "session_id": None}
    expect(page.locator(".turn-user")).to_contain_text(SAPOIN)
    answer = page.locator(".turn-bot").first
    marker = answer.locator(".answer a.cite").first
    expect(marker).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(answer.locator(".feedback")).to_be_visible(timeout=ANSWER_TIMEOUT)  # the `done` event arrived
    expect(answer.locator(".answer")).to_contain_text("4,500万円")
    expect(answer).to_have_attribute("aria-busy", "false")
    expect(box).to_have_value("")

    # the cited sources under the answer: title / section / lines, as links
    source_link = answer.locator(".sources a.source-link").first
    expect(source_link).to_be_visible()
    expect(source_link).to_contain_text(re.compile(r"\d+〜\d+行"))
    source_title = answer.locator(".sources .source-title").first.inner_text().strip()
    assert source_title
    page.screenshot(path=shots / "02-answer.png")

    # the marker opens the side panel with the cited lines highlighted
    marker.click()
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    expect(panel).to_have_attribute("role", "dialog")
    expect(panel).to_be_focused()
    expect(page.locator("#panel-title")).to_have_text(source_title)
    cited = panel.locator(".source-line.cited")
    expect(cited.first).to_be_visible()
    expect(cited.filter(has_text="4,500万円").first).to_be_visible()
    assert panel.locator(".source-line:not(.cited)").count() > 0  # context lines around the citation
    page.screenshot(path=shots / "03-source-panel.png")

    # Esc closes it and focus returns to the marker
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(marker).to_be_focused()

    # the source list link opens the same passage; the close button closes it
    source_link.click()
    expect(panel).to_be_visible()
    expect(cited.filter(has_text="4,500万円").first).to_be_visible()
    page.locator("#panel-close").click()
    expect(panel).to_be_hidden()

    # thumbs down with a comment
    answer.locator(".rate[data-rating='down']").click()
    expect(answer.locator(".rate[data-rating='down']")).to_have_attribute("aria-pressed", "true")
    comment = answer.locator(".feedback-form textarea")
    expect(comment).to_be_focused()
    comment.fill(COMMENT)
    with page.expect_response("**/api/feedback") as sent:
        answer.locator(".feedback-form button[type='submit']").click()
    assert sent.value.status == 200
    assert sent.value.request.post_data_json["rating"] == "down"
    expect(answer.locator(".feedback-thanks")).to_contain_text("ありがとうございます")
    page.screenshot(path=shots / "04-feedback.png")

    # the rating reached the database: the feedback export drafts an eval item from it
    export = subprocess.run([sys.executable, "-m", "bot.cli", "feedback", "export", "--rating", "down"], cwd=ROOT,
                            env=server.env, capture_output=True, text=True, timeout=120)
    assert export.returncode == 0, export.stderr
    items = [json.loads(line) for line in export.stdout.splitlines() if line.strip()]
    mine = [i for i in items if i["question"] == SAPOIN]
    assert mine, f"no draft for the question in the export: {export.stdout[:2000]}"
    assert mine[0]["draft"]["comment"] == COMMENT
    assert "4,500万円" in mine[0]["draft"]["bot_answer"]

    # a follow-up keeps the session; a new conversation forgets it and clears the page
    session_id = None
    box.fill(IT)
    with page.expect_request("**/api/chat/stream") as follow_up:
        box.press("Enter")
    session_id = follow_up.value.post_data_json["session_id"]
    assert session_id and re.fullmatch(r"[0-9a-f]{32}", session_id)
    expect(page.locator(".turn-bot .feedback")).to_have_count(2, timeout=ANSWER_TIMEOUT)

    page.locator("#new-chat").click()
    expect(page.locator("#conversation > *")).to_have_count(0)
    expect(page.locator("#welcome")).to_be_visible()
    expect(box).to_be_focused()
    with page.expect_request("**/api/chat/stream") as fresh:
        page.locator(".example", has_text=IT).click()
    assert fresh.value.post_data_json == {"question": IT, "session_id": None}
    expect(page.locator(".turn-bot .feedback")).to_have_count(1, timeout=ANSWER_TIMEOUT)

    # keyboard: the marker is reachable and visibly focused
    first_marker = page.locator(".turn-bot .answer a.cite").first
    first_marker.focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")  # arrived by keyboard: :focus-visible applies
    expect(first_marker).to_be_focused()
    assert first_marker.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()

    context.close()
    assert watch.problems == [], "\n".join(watch.problems)


def test_phone_screen_panel_is_full_width(server, browser, shots):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="ja-JP")
    watch = Watch(context)
    page = watch.new_page()
    page.goto(server.url + "/")
    page.screenshot(path=shots / "10-phone-start.png")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # no sideways scrolling

    page.locator(".example", has_text=SAPOIN).click()
    answer = page.locator(".turn-bot").first
    expect(answer.locator(".feedback")).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(answer.locator(".answer")).to_contain_text("4,500万円")
    page.screenshot(path=shots / "11-phone-answer.png")

    answer.locator(".answer a.cite").first.click()
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".source-line.cited").first).to_be_visible()
    page.wait_for_timeout(400)  # the sheet's slide-in animation
    box = panel.bounding_box()
    assert box["x"] <= 1 and box["width"] >= 389, box
    assert box["height"] >= 844 * 0.6, box
    expect(page.locator("#backdrop")).to_be_visible()
    page.screenshot(path=shots / "12-phone-panel.png")

    page.locator("#panel-close").click()
    expect(panel).to_be_hidden()
    expect(page.locator("#backdrop")).to_be_hidden()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390

    context.close()
    assert watch.problems == [], "\n".join(watch.problems)


def test_errors_are_shown_in_japanese(server, browser, shots):
    """429, 422 and a network failure (made by intercepting the request) as readable Japanese messages."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1024, "height": 760}, locale="ja-JP")
    # the browser itself logs "Failed to load resource" for the error statuses made here; nothing else may appear
    watch = Watch(context, allow_console=r"Failed to load resource")
    page = watch.new_page()
    page.goto(server.url + "/")
    box = page.locator("#question")

    cases = [
        (lambda route: route.fulfill(status=429, headers={"Retry-After": "42"}, content_type="application/json",
                                     body=json.dumps({"detail": "リクエストが多すぎます。42秒後にもう一度お試しください。"
                                                               " (Too many requests; retry in 42 s.)"})),
         "リクエストが多すぎます。42秒後にもう一度お試しください。"),
        (lambda route: route.fulfill(status=422, content_type="application/json",
                                     body=json.dumps({"detail": "質問が長すぎます。 (The question is too long.)"})),
         "質問が長すぎます。"),
        (lambda route: route.abort("internetdisconnected"), "サーバーに接続できませんでした"),
        (lambda route: route.fulfill(status=200, content_type="text/event-stream",
                                     body='event: session\ndata: {"session_id": "' + "a" * 32 + '"}\n\n'
                                          'event: error\ndata: {"detail": "回答の作成中にエラーが発生しました。"}\n\n'),
         "回答の作成中にエラーが発生しました。"),
    ]
    for i, (handler, message) in enumerate(cases):
        page.route("**/api/chat/stream", handler)
        box.fill(f"エラー表示の確認 {i}")
        box.press("Enter")
        error = page.locator(".turn-bot.is-error [role='alert']").nth(i)
        expect(error).to_contain_text(message)
        expect(error).not_to_contain_text("(")  # the English part of the server message is left out
        page.unroute("**/api/chat/stream")
    page.screenshot(path=shots / "20-errors.png")

    # the real server's refusal: shown as a calm notice, not an error
    page.locator("#new-chat").click()
    box.fill("今日の天気は？")
    box.press("Enter")
    refused = page.locator(".turn-bot").first
    expect(refused.locator(".feedback")).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(refused).to_have_class(re.compile(r"\bis-refused\b"))
    expect(refused).to_contain_text("資料から確認できませんでした")
    expect(refused.locator(".sources")).to_be_hidden()
    page.screenshot(path=shots / "21-refusal.png")

    context.close()
    assert watch.problems == [], "\n".join(watch.problems)


def test_a_finder_conversation_with_profile_chips(server, browser, shots):
    """From 「自分に合う補助金を探したい」 to a cited short list, the situation shown as chips and corrected."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="ja-JP")
    watch = Watch(context)
    page = watch.new_page()
    page.goto(server.url + "/")
    box = page.locator("#question")

    page.locator(".example", has_text="自分に合う補助金を探したい").click()
    first = page.locator(".turn-bot").nth(0)
    expect(first.locator(".feedback")).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(first.locator(".answer")).to_contain_text("どんなことに取り組みたいですか")
    expect(first.locator(".profile .chip-empty").first).to_be_visible()

    box.fill("社員20人の町工場です。大学と組んで新しい加工技術を開発したい")
    box.press("Enter")
    second = page.locator(".turn-bot").nth(1)
    expect(second.locator(".feedback")).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(second.locator(".answer")).to_contain_text("ご状況に合いそうな事業")
    expect(second.locator(".answer a.cite").first).to_be_visible()
    chips = second.locator(".profile .chip")
    expect(chips.filter(has_text="業種: 製造業")).to_have_count(1)
    expect(chips.filter(has_text="従業員: 20人")).to_have_count(1)
    expect(chips.filter(has_text="研究開発")).to_have_count(1)
    page.screenshot(path=shots / "30-finder-list.png", full_page=True)

    # a chip puts a correction in the box; sending it changes the situation and the list
    chips.filter(has_text="やりたいこと").click()
    expect(box).to_have_value("やりたいことは〇〇です")
    expect(box).to_be_focused()
    box.fill("研究開発ではなく、海外展開をしたいです")
    box.press("Enter")
    third = page.locator(".turn-bot").nth(2)
    expect(third.locator(".feedback")).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(third.locator(".profile .chip").filter(has_text="やりたいこと: 海外展開")).to_have_count(1)
    expect(third.locator(".profile .chip").filter(has_text="当てはまらない: 研究開発")).to_have_count(1)
    expect(third.locator(".profile .chip").filter(has_text="資本金")).to_have_count(0)  # not said: no chip
    page.screenshot(path=shots / "31-finder-corrected.png", full_page=True)

    box.fill("資本金は3000万円です")
    box.press("Enter")
    fourth = page.locator(".turn-bot").nth(3)
    expect(fourth.locator(".feedback")).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(fourth.locator(".profile .chip").filter(has_text="資本金: 3,000万円")).to_have_count(1)

    context.close()
    assert watch.problems == [], "\n".join(watch.problems)
