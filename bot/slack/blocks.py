"""Rendering an Answer and its cited passages as Slack Block Kit: pure functions, no Slack calls.

The engine has already decided what is said and what is cited; this module only changes the form:
`[n]` markers to bold mrkdwn markers, citations to a context block, and everything cut to Slack's limits
(3,000 characters per section, 10 elements per context block, 50 blocks per message).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.schema import MARKER_RE, Answer, Citation

SECTION_CHARS = 3000  # Slack: text of a section block
CONTEXT_ELEMENTS = 10  # Slack: elements of a context block
MAX_BLOCKS = 50  # Slack: blocks of one message
MESSAGE_CHARS = 12000  # our own cap per message, well under Slack's 40,000 so clients never truncate
FALLBACK_CHARS = 3000  # the notification / screen-reader `text` of a message with blocks

ACTION_UP = "advisor_feedback_up"
ACTION_DOWN = "advisor_feedback_down"
ACTION_SOURCES = "advisor_show_sources"

DISCLAIMER = "※ 回答は登録資料の記載に基づきます。申請にあたっては最新の公募要領をご確認ください。"
THANKS = {"up": "フィードバックありがとうございます。👍 として記録しました。",
          "down": "フィードバックありがとうございます。👎 として記録しました。回答の改善に使います。"}

_MENTION_RE = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_LINK_RE = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SPECIAL_RE = re.compile(r"<[!#][^>|]*(?:\|([^>]*))?>")


@dataclass
class SlackMessage:
    """One chat.postMessage / chat.postEphemeral payload: fallback text and blocks."""

    text: str
    blocks: list[dict] = field(default_factory=list)


def escape(text: str) -> str:
    """Slack's three control characters, escaped as its docs require for mrkdwn text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def question_text(text: str) -> str:
    """The question a user typed, from Slack's message markup: mentions dropped, links and entities unwrapped."""
    text = _MENTION_RE.sub(" ", text or "")
    text = _LINK_RE.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SPECIAL_RE.sub(lambda m: m.group(1) or "", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t\u3000]+", " ", text).strip()


def to_mrkdwn(answer: str, numbers: Iterable[int]) -> str:
    """Answer text as mrkdwn: escaped, and each citation marker `[n]` of a real citation made bold.

    Slack only sees `*...*` as bold after whitespace, so a space goes before the marker (Japanese text has
    none); bracketed numbers that are not citations are left as they are.
    """
    cited = set(numbers)

    def marker(m: re.Match) -> str:
        return f" *[{m.group(1)}]*" if int(m.group(1)) in cited else m.group(0)

    return MARKER_RE.sub(marker, escape(answer))


def tables_as_lists(text: str) -> str:
    """Markdown tables (catalogue comparisons and lists) as Slack can show them: a bold line per row, then
    「• 列名：値」 per cell, rows apart. Slack's mrkdwn has no tables; the [n] markers stay with their cells."""
    out: list[str] = []
    rows: list[list[str]] = []

    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.strip().strip("|").split("|")]

    def flush() -> None:
        if not rows:
            return
        header, body = rows[0], [r for r in rows[1:] if not all(re.fullmatch(r":?-{3,}:?", c) for c in r)]
        for row in body:
            split = re.match(r"^(.*?)((?:\s*\[\d+\])*)\s*$", row[0]) if row else None
            name, marks = split.groups() if split else ("", "")
            out.append(f"*{name.strip()}*{marks}" if name.strip() else marks.strip())
            out.extend(f"• {label}：{value}" for label, value in zip(header[1:], row[1:]))
            out.append("")
        rows.clear()

    for line in text.split("\n"):
        if line.lstrip().startswith("|"):
            rows.append(cells(line))
            continue
        flush()
        out.append(line)
    flush()
    return "\n".join(out).strip("\n")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chunks(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """Text split at line ends into pieces of at most `limit` characters (an over-long line is cut hard)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return [p for p in pieces if p.strip()] or [""]


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def source_label(c: Citation) -> str:
    """`[n] title / section (file 12–18行)`: where a citation comes from, as plain text."""
    section = f" / {c.section}" if c.section else ""
    return f"[{c.n}] {c.title}{section}（{c.source} {c.start_line}–{c.end_line}行）"


def sources_blocks(citations: Sequence[Citation]) -> list[dict]:
    """Context blocks listing the sources (document title, section, lines), at most 10 elements each."""
    elements = [{"type": "mrkdwn", "text": "*出典*"}] + [
        {"type": "mrkdwn", "text": _cut(escape(source_label(c)), SECTION_CHARS)} for c in citations]
    return [{"type": "context", "elements": elements[i:i + CONTEXT_ELEMENTS]}
            for i in range(0, len(elements), CONTEXT_ELEMENTS)]


def actions_block(message_id: str, has_sources: bool) -> dict:
    """👍 / 👎 (stored as feedback on this answer) and 出典を表示; each button carries the answer's message id."""
    buttons = [
        {"type": "button", "action_id": ACTION_UP, "value": message_id,
         "text": {"type": "plain_text", "text": "👍", "emoji": True},
         "accessibility_label": "この回答は役に立った"},
        {"type": "button", "action_id": ACTION_DOWN, "value": message_id,
         "text": {"type": "plain_text", "text": "👎", "emoji": True},
         "accessibility_label": "この回答は役に立たなかった"},
    ]
    if has_sources:
        buttons.append({"type": "button", "action_id": ACTION_SOURCES, "value": message_id,
                        "text": {"type": "plain_text", "text": "出典を表示"}})
    return {"type": "actions", "elements": buttons}


def answer_tail(answer: Answer, message_id: str) -> list[dict]:
    """The blocks under an answer's text: its notice, the sources, the disclaimer and the buttons."""
    tail: list[dict] = []
    if answer.notice:  # e.g. the LLM was unavailable and the answer quotes the documents instead
        tail.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": _cut("ℹ️ " + escape(answer.notice), SECTION_CHARS)}]})
    if not answer.refused and answer.citations:
        tail += sources_blocks(answer.citations)
        tail.append({"type": "context", "elements": [{"type": "mrkdwn", "text": DISCLAIMER}]})
    tail.append(actions_block(message_id, has_sources=bool(answer.citations)))
    return tail


def render_answer(answer: Answer, message_id: str) -> list[SlackMessage]:
    """The answer as one or more messages (a long one is split); the last carries sources and buttons."""
    body = to_mrkdwn(tables_as_lists(answer.answer), (c.n for c in answer.citations))
    sections = [_section(chunk) for chunk in _chunks(body)]
    tail = answer_tail(answer, message_id)

    messages: list[list[dict]] = [[]]
    size = 0
    for block in sections:
        length = len(block["text"]["text"])
        if messages[-1] and (len(messages[-1]) >= MAX_BLOCKS or size + length > MESSAGE_CHARS):
            messages.append([])
            size = 0
        messages[-1].append(block)
        size += length
    if len(messages[-1]) + len(tail) > MAX_BLOCKS:
        messages.append([])
    messages[-1].extend(tail)

    fallback = _cut(answer.answer, FALLBACK_CHARS)
    out = []
    for i, blocks in enumerate(messages):
        text = fallback if i == 0 else f"（続き {i + 1}/{len(messages)}）"
        out.append(SlackMessage(text=text, blocks=blocks))
    return out


def render_sources(citations: Sequence[Citation]) -> SlackMessage:
    """The cited passages themselves (what 「出典を表示」 shows): a heading per citation and its text quoted."""
    if not citations:
        return SlackMessage(text="この回答には出典がありません。",
                            blocks=[_section("この回答には出典がありません。")])
    blocks: list[dict] = [_section("*引用した箇所*")]
    shown = 0
    for c in citations:
        if len(blocks) + 2 > MAX_BLOCKS - 1:
            break
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": _cut("*" + escape(source_label(c)) + "*", SECTION_CHARS)}]})
        quoted = "\n".join("> " + escape(line) for line in c.text.splitlines() if line.strip())
        blocks.append(_section(_cut(quoted, SECTION_CHARS)))
        shown += 1
    if shown < len(citations):
        blocks.append(_section(f"ほか {len(citations) - shown} 件の出典は表示しきれませんでした。"))
    text = "引用した箇所: " + "、".join(source_label(c) for c in citations)
    return SlackMessage(text=_cut(text, FALLBACK_CHARS), blocks=blocks)


def notice(text: str) -> SlackMessage:
    """A short message of the bot's own (an error, an empty question) as one section."""
    return SlackMessage(text=text, blocks=[_section(escape(text))])
