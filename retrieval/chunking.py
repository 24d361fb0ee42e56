"""Cut a Document into citable Passages along headings, bullets and sentences.

PDF-extracted text breaks lines inside sentences and (in the budget PR sheets) puts a blank line
between every line. Chunking joins such lines into paragraphs while remembering the original line
numbers, so that every passage cites exactly the lines it was read from. Each passage carries its
section heading path; in the PR sheets that is the program name, which the sheet states once but
every passage of the sheet is about.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from retrieval.loaders import is_page_number
from retrieval.text import nfkc, normalize
from retrieval.types import Document, Passage

MAX_CHARS = 360
MIN_CHARS = 120
TINY_CHARS = 40  # a passage this short (a lone heading, a chart label) is merged into its neighbour
UNIT_MIN_CHARS = 8  # a small unit needs this many word characters
PROGRAM_SPAN = 160  # content lines a PR-sheet program name stays in force without a new one

_NUM = r"[0-9０-９一二三四五六七八九十]+"
_DIGITS = r"[0-9０-９]{1,2}"
_DASH = r"[－\-‐―ー−]"
# Heading layouts of Japanese public documents, outermost first. The level is only an order: a heading
# closes every open heading of its own or a deeper level.
_HEADING_PATTERNS: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(rf"^第\s*{_NUM}\s*[部章]")),
    (2, re.compile(rf"^第\s*{_NUM}\s*節")),
    (3, re.compile(rf"^{_DIGITS}\s*[\.．](?![0-9０-９])\s*[^\s%％]")),
    (5, re.compile(rf"^{_DIGITS}\s*{_DASH}\s*{_DIGITS}\s*{_DASH}\s*{_DIGITS}(?![0-9０-９])\s*\S")),  # ２－１－１
    (4, re.compile(rf"^{_DIGITS}\s*{_DASH}\s*{_DIGITS}(?![0-9０-９])\s*[^\s\d０-９～~]")),  # １－２ 目的
    # 【補足１】 補助対象経費の算出方法について, ■ 対象, ｜事業概要｜ (a bracket alone, 【ものづくり補助金】, labels a block)
    (6, re.compile(r"^(【[^】]{1,30}】\s*[^\s、][^、]{0,24}$|[■□◆]\s*\S|[｜|]\s*\S.{0,20}[｜|]$)")),
    (7, re.compile(r"^[（(][0-9０-９]{1,2}[）)]\s*\S")),
    (8, re.compile(r"^[①-⑳]")),
    (9, re.compile(r"^([（(][ア-ンｱ-ﾝ][）)]|[ア-ン]\s)\s*[^\s、]{3}[^、]{0,14}$")),  # (ア) 対象経費 / ア 対象者
]
_ARTICLE_LABEL_RE = re.compile(r"^[（(][^（）()0-9０-９]{2,15}[）)]$")  # （通則） over 「第１条 …」
_ARTICLE_RE = re.compile(rf"^第\s*{_NUM}\s*条")
ARTICLE_LEVEL = 10
_ROW_LEVELS = {6, 9}  # 【…】 and (ア) lines one after another are rows of a list, not headings
_TOC_RE = re.compile(r"(\.{4,}|…{2,}|・{4,})\s*\d*\s*$")  # a table-of-contents line, not a heading
_BUDGET_LINE_RE = re.compile(r"^(令和|平成)\s*(\d+|元)\s*年度.{0,10}予算")
_BULLET_RE = re.compile(r"^[・○●◆◇■□※▶▷➢➤✓•◎★☆\-–]|^[①-⑳]|^[（(][0-9０-９a-zA-Zア-ン]{1,2}[）)]|^[0-9０-９]{1,2}[\.．]")
_PAGE_START_RE = re.compile(r"^事業の内容")
_SENTENCE_FINAL = ("。", "．", "！", "？", "!", "?", "」", "』")
PROGRAM_LEVEL = 0  # a program sheet outranks every numbered heading inside it


@dataclass
class _Unit:
    """A paragraph: consecutive lines that form one piece of prose, with their line numbers."""

    pieces: list[tuple[int, str]]

    @property
    def text(self) -> str:
        out = ""
        for _, s in self.pieces:
            out += (" " if out and out[-1].isascii() and out[-1].isalnum() and s[:1].isascii() and s[:1].isalnum() else "") + s
        return out

    @property
    def start(self) -> int:
        return self.pieces[0][0]

    @property
    def end(self) -> int:
        return self.pieces[-1][0]


def heading_level(line: str, next_line: str | None) -> int | None:
    """Heading level of a line, or None for body text. Program names (followed by a 予算額 line) are level 0."""
    s = nfkc(line).strip()
    if not s or len(s) > 70:
        return None
    if next_line is not None and _BUDGET_LINE_RE.match(nfkc(next_line).strip()) and not _BUDGET_LINE_RE.match(s):
        return PROGRAM_LEVEL
    if "。" in s or len(s) > 45:
        return None
    if _TOC_RE.search(s):
        return None
    if _ARTICLE_LABEL_RE.match(s):
        return ARTICLE_LEVEL if next_line is not None and _ARTICLE_RE.match(nfkc(next_line).strip()) else None
    for level, pattern in _HEADING_PATTERNS:
        if pattern.match(s):
            if level in _ROW_LEVELS and next_line is not None and heading_level(next_line, None) == level:
                return None
            if level >= 3 and len(re.sub(r"[\s\d()（）.．、,%％~\-]", "", s)) < 2:
                return None  # a chart's axis labels such as "(8) (7) (6)" are not a heading
            return level
    return None


def chunk(doc: Document, max_chars: int = MAX_CHARS, min_chars: int = MIN_CHARS, root: str = "") -> list[Passage]:
    """Passages of roughly min..max characters that never cross a section heading."""
    return chunk_with_units(doc, max_chars, min_chars, root)[0]


def chunk_with_units(doc: Document, max_chars: int = MAX_CHARS, min_chars: int = MIN_CHARS,
                     root: str = "") -> tuple[list[Passage], list[Passage]]:
    """Passages, and the small units inside them (a label-value line, a table row, a list item).

    A fact stated on one line (「補助上限額：…」) is diluted in a passage-sized embedding; its unit, read with
    its heading path, is not. Units are matched by search and stand for their parent passage (small-to-big).
    """
    groups: list[tuple[str, list[_Unit]]] = []
    for section, units in _sections(doc):
        section = " > ".join(x for x in (nfkc(root).strip(), section) if x)  # root: what the document is
        for group in _pack(units, max_chars, min_chars):
            size = sum(len(u.text) for u in group)
            if groups and size < TINY_CHARS:
                groups[-1][1].extend(group)  # lines are consecutive, so the range stays contiguous
            elif groups and sum(len(u.text) for u in groups[-1][1]) < TINY_CHARS:
                groups[-1] = (section, groups[-1][1] + group)
            else:
                groups.append((section, group))
    passages, small = [], []
    for section, group in groups:
        parent = _passage(doc, section, group)
        passages.append(parent)
        if len(group) < 2:
            continue
        labels = ""  # a table's header row names the columns of the rows under it
        for u in group:
            if _is_label_row(u.text):
                labels = nfkc(u.text)
            elif _is_unit(u.text):
                small.append(_passage(doc, f"{section} > {labels}" if labels and section else labels or section, [u],
                                      parent=parent.id))
    return passages, small


def _is_row(line: str) -> bool:
    """A table row as PDF extraction flattens it: cells apart by spaces, figures in them (「５万円～１５０万円未満 １プロセス以上」)."""
    cells = nfkc(line).split()
    return 2 <= len(cells) <= 8 and any(ch.isdigit() for ch in cells[-1]) and "。" not in line


def _is_label_row(text: str) -> bool:
    """A table's header row: a few short labels without figures (「補助対象経費 補助率 補助額 プロセス数」)."""
    cells = nfkc(text).split()
    return 2 <= len(cells) <= 6 and all(len(c) <= 12 and not re.search(r"[\d。、]", c) for c in cells)


def _is_unit(text: str) -> bool:
    """Worth matching on its own: enough words to state something (not a lone label or page number, nor a
    caption wholly in brackets such as an article's 「（ＩＴツールの登録）」, which names without stating)."""
    t = nfkc(text).strip()
    if _CAPTION_RE.fullmatch(t):
        return False
    return len(re.sub(r"[\s\d０-９.,、，．・※()（）%％-]", "", t)) >= UNIT_MIN_CHARS


_CAPTION_RE = re.compile(r"[(\[【〔<＜《][^()\[\]【】〔〕<>＜＞《》]*[)\]】〕>＞》]")


def _sections(doc: Document) -> list[tuple[str, list[_Unit]]]:
    """Split the document at headings; each section keeps its heading path and its paragraphs.

    Budget PR sheets sometimes print the program name in the middle of the page: the page opens
    with 「事業の内容」 and the name comes later. Such a page is given to the program named on it.
    """
    content = [(i + 1, ln) for i, ln in enumerate(doc.lines) if ln.strip()]
    path: dict[int, str] = {}
    sections: list[tuple[dict[int, str], list[_Unit]]] = [({}, [])]
    prev_line: str | None = None
    since_budget = 99  # content lines since the last 予算額 line
    page_start: int | None = None  # index into sections of an untitled PR-sheet page
    program_age = 0
    for idx, (line_no, line) in enumerate(content):
        next_line = content[idx + 1][1] if idx + 1 < len(content) else None
        stripped = line.strip()
        level = heading_level(line, next_line)
        program_age += 1
        if level is None and PROGRAM_LEVEL in path and program_age > PROGRAM_SPAN:
            path, page_start = {}, None  # the program sheet is long over; do not label later text with it
            sections.append(({}, []))
        if level is None and PROGRAM_LEVEL in path and since_budget > 3 and _PAGE_START_RE.match(nfkc(stripped)):
            path = {PROGRAM_LEVEL: path[PROGRAM_LEVEL]}
            sections.append((dict(path), []))
            page_start, prev_line = len(sections) - 1, None
        if level is not None:
            heading = nfkc(line).strip()
            path = {} if level == PROGRAM_LEVEL else {lvl: h for lvl, h in path.items() if lvl < level}
            path[level] = heading
            if level == PROGRAM_LEVEL:
                program_age = 0
            if level == PROGRAM_LEVEL and page_start is not None:
                for section_path, _ in sections[page_start:]:
                    section_path[PROGRAM_LEVEL] = heading
                sections[-1][1].append(_Unit([(line_no, stripped)]))
            else:
                sections.append((dict(path), [_Unit([(line_no, stripped)])]))
            page_start = None if level == PROGRAM_LEVEL else page_start
            prev_line = None
            continue
        since_budget = 0 if _BUDGET_LINE_RE.match(nfkc(stripped)) else since_budget + 1
        units = sections[-1][1]
        if is_page_number(stripped):
            # Kept (citations quote the file as it is) but never glued into a sentence.
            units.append(_Unit([(line_no, stripped)]))
            prev_line = None
            continue
        if units and prev_line is not None and _continues(prev_line, stripped):
            units[-1].pieces.append((line_no, stripped))
        else:
            units.append(_Unit([(line_no, stripped)]))
        prev_line = stripped
    return [(" > ".join(p[k] for k in sorted(p)), units) for p, units in sections if units]


# 「受付期間: 2026年…」: a label (not a URL scheme) and a value after a colon and a space, the way records and
# forms are written; two such lines in a row are two fields, never one sentence broken in two.
_FIELD_LINE_RE = re.compile(r"^(?=[^\s:]*[^\x00-\x7f])[^\s:：。、]{2,12}: \S")


def _continues(prev: str, line: str) -> bool:
    """Was this line's start broken off the previous line in the middle of a sentence?"""
    if prev.endswith(_SENTENCE_FINAL) or _BULLET_RE.match(nfkc(line)):
        return False
    if _FIELD_LINE_RE.match(prev) and _FIELD_LINE_RE.match(line):
        return False
    if _is_row(prev) and _is_row(line):
        return False  # rows of a table flattened by PDF extraction: one row, one line
    if _BUDGET_LINE_RE.match(nfkc(line)) or _BUDGET_LINE_RE.match(nfkc(prev)):
        return False
    return len(prev) >= 16


def _pack(units: list[_Unit], max_chars: int, min_chars: int) -> list[list[_Unit]]:
    """Group paragraphs into passages; split paragraphs longer than max_chars at sentence ends."""
    pieces: list[_Unit] = []
    for unit in units:
        pieces.extend(_split_long(unit, max_chars) if len(unit.text) > max_chars else [unit])
    groups: list[list[_Unit]] = []
    size = 0
    for unit in pieces:
        n = len(unit.text)
        if (groups and size + n <= max_chars) or (groups and size < min_chars and size + n <= max_chars * 1.5):
            groups[-1].append(unit)
            size += n
        else:
            groups.append([unit])
            size = n
    if len(groups) > 1 and sum(len(u.text) for u in groups[-1]) < min_chars // 2:
        groups[-2].extend(groups.pop())  # a short tail reads better with what precedes it
    return groups


def _split_long(unit: _Unit, max_chars: int) -> list[_Unit]:
    """Split one long paragraph between its lines (never inside a line, so citations quote whole lines)."""
    out: list[_Unit] = []
    current: list[tuple[int, str]] = []
    size = 0
    for line_no, piece in unit.pieces:
        if current and size + len(piece) > max_chars:
            out.append(_Unit(current))
            current, size = [], 0
        current.append((line_no, piece))
        size += len(piece)
    if current:
        out.append(_Unit(current))
    return out


def _passage(doc: Document, section: str, units: list[_Unit], parent: str = "") -> Passage:
    text = "\n".join(u.text for u in units)
    start, end = units[0].start, units[-1].end
    digest = hashlib.sha1(f"{doc.content_hash}:{text}".encode()).hexdigest()[:10]
    return Passage(
        id=f"{doc.source}:{start}-{end}:{digest}" + ("#u" if parent else ""),
        parent=parent,
        source=doc.source,
        title=doc.title,
        section=section,
        start_line=start,
        end_line=end,
        text=text,
        norm=normalize(f"{section}\n{text}" if section else text),
    )
