"""Budget PR sheets (予算PR資料): one program per sheet, and the programs a sheet describes inside it.

A sheet is a title over a 予算額 line on one page, with the sections 事業目的, 事業概要, 事業スキーム and
成果目標; a program inside it is a heading like 「（１）…事業（…補助金）」.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.catalogue.layouts.text import (
    NICKNAME_SUFFIX_RE,
    TARGET_SENTENCE_RE,
    cap_rate_period,
    glossary_aliases,
    is_header,
    join_lines,
    join_lines_spaced,
    page_ranges,
    program_nicknames,
    raw_slice,
    split_name,
    squash_line,
)
from retrieval.catalogue.model import FIELDS, KINDS, Cited, Program, name_key
from retrieval.glossary import Glossary
from retrieval.text import fold_radicals, nfkc, squash
from retrieval.types import Document

BUDGET_RE = re.compile(
    r"^\s*((?:(?:令和|平成)\s*[0-9０-９元]+\s*年度\S{0,12}?予算額|国庫債務負担行為\S{0,8}?額)\s*\S*?"
    r"[0-9０-９][0-9０-９,，.．]*\s*(?:兆[0-9０-９,，.．]*)?\s*億円(?:\s*[（(][^）)]*[）)])?(?:\*\*)?"
    r"(?:\s*[＜<（(※][^＞>）)]*[＞>）)]?[^局庁課室]*?)?)(?:\s+(.+))?$")
_BUDGET_LABEL_RE = re.compile(r"^(.*?(?:予算額|要求額|総額))")
_DIVISION_RE = re.compile(
    r"^(?:[（(][0-9０-９]+[)）])?\s*((?:中小企業庁|資源エネルギー庁|特許庁|[^\s。、]{1,12}局|商務・サービスG|"
    r"[^\s。、]{1,12}グループ)[^。]{0,40}?(?:課|室|部|局|庁|チーム|G|グループ))\s*$")
_DIVISION_TAIL_RE = re.compile(r"^(?:[（(][0-9０-９]+[)）])?\s*((?:中小企業庁|[^\s。、]{1,12}局)[^。、]{0,30}(?:課|室|部|局|庁))\s*$")
_SUBUNIT_RE = re.compile(r"^[^\s。、]{1,16}(?:課|室|チーム)$")
_MINISTRY_RE = re.compile(r"(中小企業庁|資源エネルギー庁|特許庁|経済産業省|文部科学省|厚生労働省|内閣府|国土交通省|環境省|総務省)")
_TARGET_WORDS = ("中小企業者等", "中小企業・小規模事業者", "中堅・中小企業", "小規模事業者等", "小規模事業者", "中小企業等",
                 "中小企業者", "中小企業", "中堅企業等", "中堅企業", "スタートアップ", "民間企業等", "民間事業者等", "民間事業者",
                 "民間企業", "事業者等", "購入者等", "民間団体等", "大学等", "地方公共団体", "自治体", "組合等")
_SME_WORDS = 10  # the first words of _TARGET_WORDS name SMEs; they win over a generic 「を対象と」 phrase
_CONTACT_RE = re.compile(r"^\s*(0\d{1,3}-\d{3,4}-\d{4})\s*$")
_SUB_RE = re.compile(
    r"^\s*(?:[（(]\s*[0-9０-９一二三四五六七八九十]+\s*[)）]|[①-⑳]|[0-9]{1,2}(?=[^\d.,]))\s*"
    r"([^\s（()）、。：:]{4,60}?(?:事業|補助金|制度|助成金|プロジェクト))\s*[（(]([^（()）]{2,30})[)）]\s*$")


name = "budget_sheet"


def programs(doc: Document, glossary: Glossary, title: str) -> list[Program]:
    """The layout's entries (see `layouts.Layout`): one per sheet, and one per program described inside one."""
    return extract_document(doc, glossary)


@dataclass
class Sheet:
    """A budget PR sheet (or the same layout in another document): where it starts, ends and is titled."""

    name: str  # as written (a trailing nickname in parentheses removed)
    nickname: str | None
    title_start: int  # 1-based
    title_end: int
    budget_line: int
    start: int  # the page (or region) holding the sheet
    end: int


def find_sheets(doc: Document, glossary: Glossary) -> list[Sheet]:
    """Every budget line with the program title above it, and the page that holds both."""
    lines = doc.lines
    pages = page_ranges(lines)
    sheets = []
    for i, line in enumerate(lines, 1):
        if not BUDGET_RE.match(line):
            continue
        # The title: the nearest non-blank line above; a 「（…の内数）」 line continues the one above it.
        j = i - 1
        while j >= 1 and not lines[j - 1].strip():
            j -= 1
        if j < 1:
            continue
        title_end = j
        if re.match(r"^\s*[（(].*(内数|）|\))\s*$", lines[j - 1]) and "内数" in lines[j - 1]:
            j -= 1
            while j >= 1 and not lines[j - 1].strip():
                j -= 1
            title_end = j
        title = lines[j - 1].strip()
        # A two-line title: 「…支援事業\n（工作機械・産業用ロボット）」.
        title_start = j
        if re.match(r"^[（(][^）)]+[)）]$", title) and j > 1 and lines[j - 2].strip():
            title_start = j - 1
            title = lines[j - 2].strip() + title
        if not _looks_like_title(title):
            continue
        name, nickname = split_name(fold_radicals(re.sub(r"\s+", "", title)) if not re.search(r"[A-Za-z] [A-Za-z]", title)
                                     else fold_radicals(title), glossary)
        start, end = next(((s, e) for s, e in pages if s <= i <= e), (1, len(lines)))
        if end - start < 8:  # no page breaks around (markdown, white paper): the region runs to the next sheet
            start, end = title_start, len(lines)
        else:
            last = next((lines[k - 1] for k in range(end, start - 1, -1) if lines[k - 1].strip()), "")
            nxt = next(((s, e) for s, e in pages if s > end), None)
            if squash_line(last).startswith(squash("条件（対象者")) and nxt:  # the scheme continues on the next page
                end = nxt[1]
            # Title first, then the sheet's sections (markdown-like documents): the sheet starts at its title.
            before = any(squash_line(lines[k - 1]).startswith(("事業目的", "事業概要", "成果目標"))
                         for k in range(start, title_start))
            after = any(is_header(lines[k - 1]) for k in range(i + 1, end + 1))
            if after and not before:
                start = title_start
        sheets.append(Sheet(name, nickname, title_start, title_end, i, start, end))
    # Without page breaks, a region ends where the next sheet's title begins.
    for a, b in itertools.pairwise(sheets):
        if a.end >= b.title_start and a.start < b.title_start and not (a.start <= b.budget_line <= a.end
                                                                      and _same_page(pages, a, b)):
            a.end = b.title_start - 1
    return sheets


def _same_page(pages: list[tuple[int, int]], a: Sheet, b: Sheet) -> bool:
    return any(s <= a.budget_line <= e and s <= b.budget_line <= e and e - s >= 8 for s, e in pages)


def _looks_like_title(title: str) -> bool:
    t = nfkc(title)
    return (4 <= len(t) <= 80 and "。" not in t and not BUDGET_RE.match(t) and not t.startswith(("※", "・", "-"))
            and not re.fullmatch(r"[\d\s.,()（）億円万]+", t))


def _section_body(lines: Sequence[str], start: int, end: int, header: str, skip: set[int],
                  max_chars: int = 220) -> Cited | None:
    """The text after a section header (事業目的, 事業概要, 成果目標) within start..end, up to a sentence end.

    Stops at the next header, a budget/title/division line, or a line of a scheme diagram (very short).
    Returns None when the section is absent or has no text.
    """
    h = None
    for n in range(start, end + 1):
        s = squash_line(lines[n - 1])
        if s.startswith(squash(header)) and not s[len(squash(header)):].startswith(("・概要", "、申請概要", "及び")):
            rest = s[len(squash(header)):]
            nxt = next((lines[k - 1] for k in range(n + 1, end + 1) if lines[k - 1].strip()), "")
            if (not rest or is_header(rest)) and is_header(nxt):
                continue  # 「事業目的・概要 事業スキーム」 over 「事業目的」: the body is under the inner header
            h = n
            break
    if h is None:
        return None
    first = last = None
    rest = squash_line(lines[h - 1])[len(squash(header)):]
    n = h if rest and not is_header(rest) and len(rest) >= 6 else h + 1
    text = ""
    while n <= end:
        raw = lines[n - 1].strip()
        if n != h and (is_header(raw) or n in skip or BUDGET_RE.match(raw) or _looks_like_division(raw)):
            break
        if raw and n != h and len(nfkc(raw)) <= 3 and not raw.endswith("。") and not text.endswith(("、", "の", "を", "に")):
            break  # a scheme diagram box (国, 補助, 委託)
        if raw:
            if first is None:
                first = n
            last = n
            text = join_lines(lines, first, last)
            if len(text) >= max_chars and text.endswith("。"):
                break
            if len(text) >= max_chars * 2:
                break
        n += 1
    if first is None or last is None or len(text) < 6:
        return None
    if "。" in text and not text.endswith("。"):
        # Scheme-diagram words after the last sentence are not part of the section: end at a sentence.
        keep = text[:text.rfind("。") + 1]
        while last > first and squash(keep) in squash(join_lines(lines, first, last - 1)):
            last -= 1
        text = keep
    elif "。" not in text and not re.match(r"^[・○〇●◆■\-•①②③④⑤⑥⑦⑧⑨（(]", text):
        return None
    if n == h and first == h:  # the body began on the header line: drop the header word from the value
        text = join_lines(lines, first, last)
        text = text[text.find(header[-2:]) + 2:].lstrip("・、 ") if header[-2:] in text else text
    return Cited(value=text, source="", start_line=first, end_line=last)


def _target(lines: Sequence[str], start: int, end: int, source: str, skip: set[int]) -> Cited | None:
    """Who may apply: an SME word in the scheme diagram, else a 「…を対象と」 phrase, else any recipient word."""
    best = _recipient(lines, start, end, skip, _TARGET_WORDS[:_SME_WORDS])
    if best is not None:
        return Cited(value=best[0], source=source, start_line=best[1], end_line=best[2])
    for n in range(start, end + 1):
        m = TARGET_SENTENCE_RE.search(lines[n - 1])
        if m and len(m.group(1).strip()) >= 4:
            phrase = re.split(r"[、。]\s*(?=[^、。]*を対象)", m.group(1))[-1].strip().lstrip("-・•● ")
            phrase = phrase.split("、", 1)[-1] if len(phrase) > 60 else phrase
            if 3 <= len(phrase) <= 80 and not phrase.startswith(("採択", "上記")) and not re.search(r"庁|局|省", phrase):
                return Cited(value=phrase, source=source, start_line=n, end_line=n)
    best = _recipient(lines, start, end, skip, _TARGET_WORDS)
    if best is None:
        return None
    return Cited(value=best[0], source=source, start_line=best[1], end_line=best[2])


def _recipient(lines: Sequence[str], start: int, end: int, skip: set[int],
               words: Sequence[str]) -> tuple[str, int, int] | None:
    """The most specific recipient word at the start of a short line (a scheme diagram box), not an office
    name; a box split over two short lines (「中小」「企業等」) is read as one."""
    best: tuple[int, str, int, int] | None = None
    for n in range(start, end + 1):
        if n in skip:
            continue
        line = nfkc(lines[n - 1]).strip()
        if not line or len(line) > 30 or "。" in line or re.search(r"庁|局|課|室", line) or _SUB_RE.match(line) \
                or re.search(r"(事業|補助金)[)）]?$", line):
            continue
        candidates = [(line, n)]
        nxt = nfkc(lines[n]).strip() if n < end else ""
        if len(line) <= 8 and nxt and len(nxt) <= 8:
            candidates.append((line + nxt, n + 1))
        for text, last in candidates:
            # A box label starts the line or one of its space-separated pieces (「国 民間企業等」).
            leads = [re.sub(r"^[・･•(（\[［①-⑳0-9]+", "", piece) for piece in text.split()]
            for rank, word in enumerate(words):
                if any(lead.startswith(word) for lead in leads) and (best is None or rank < best[0]):
                    best = (rank, word, n, last if not line.startswith(word) or len(line) < len(word) else n)
                    break
    return (best[1], best[2], best[3]) if best else None


def _kind(lines: Sequence[str], start: int, end: int, source: str, title: str, title_line: int) -> Cited | None:
    """補助/委託/融資/税制/基金/その他 from the title, else the words of the scheme diagram (short lines)."""
    for kind, words in KINDS.items():
        if kind in ("補助", "委託") and not re.search(r"(補助金|委託費)$", title):
            continue
        if any(w in squash(title) for w in words):
            return Cited(value=kind, source=source, start_line=title_line, end_line=title_line)
    short = [(n, squash(lines[n - 1])) for n in range(start, end + 1)
             if lines[n - 1].strip() and len(nfkc(lines[n - 1]).strip()) <= 24 and "。" not in lines[n - 1]
             and not is_header(lines[n - 1])]
    for kind in ("基金", "税制", "補助", "委託", "融資", "その他"):
        for n, text in short:
            hit = any(w in text for w in KINDS[kind]) if kind != "融資" else re.fullmatch(r"(出資|融資|貸付)等?", text)
            if hit and not (kind == "基金" and "基盤整備" in text):
                return Cited(value=kind, source=source, start_line=n, end_line=n)
    return None


def _division(lines: Sequence[str], sheet: Sheet, source: str) -> Cited | None:
    """The responsible division: after the amount on the budget line, else a 「…局…課」 line of the sheet."""
    m = BUDGET_RE.match(lines[sheet.budget_line - 1])
    if m and m.group(2) and _DIVISION_TAIL_RE.match(nfkc(m.group(2)).strip()):
        tail = m.group(2).strip()
        return Cited(value=tail, source=source, start_line=sheet.budget_line, end_line=sheet.budget_line)
    for n in range(sheet.start, sheet.end + 1):
        raw = lines[n - 1].strip()
        if raw and _DIVISION_RE.match(nfkc(raw)) and "。" not in raw:
            last = n
            k = n + 1
            while k <= sheet.end and k <= n + 6:  # 「中小企業庁経営支援部」 then 「経営支援課」 「技術・経営革新課」
                nxt = nfkc(lines[k - 1]).strip()
                if nxt and not (_SUBUNIT_RE.match(nxt) or _DIVISION_RE.match(nxt)):
                    break
                if nxt:
                    last = k
                k += 1
            return Cited(value=join_lines_spaced(lines, n, last), source=source, start_line=n, end_line=last)
    return None


def _looks_like_division(raw: str) -> bool:
    """A line naming the responsible office (「製造産業局（1）(3)航空機武器宇宙産業課」), which ends a section body."""
    t = nfkc(raw).strip()
    return bool(_DIVISION_RE.match(t)) or (len(t) <= 40 and "。" not in t and re.search(r"\S局|庁", t) is not None
                                           and re.search(r"(課|室|局|部)", t) is not None and "、" not in t)


def extract_document(doc: Document, glossary: Glossary) -> list[Program]:
    """Programs of one document: one per budget sheet, plus programs described inside a sheet."""
    lines, source = doc.lines, doc.source
    programs: list[Program] = []
    sheets = find_sheets(doc, glossary)
    for sheet in sheets:
        skip = {sheet.budget_line, *range(sheet.title_start, sheet.title_end + 1)}
        fields: dict[str, Cited] = {}
        m = BUDGET_RE.match(lines[sheet.budget_line - 1])
        budget = m.group(1).strip() if m else lines[sheet.budget_line - 1].strip()
        fields["budget"] = Cited(value=budget, source=source, start_line=sheet.budget_line,
                                 end_line=sheet.budget_line)
        if d := _division(lines, sheet, source):
            fields["division"] = d
            if mm := _MINISTRY_RE.search(nfkc(d.value)):
                fields["ministry"] = Cited(value=mm.group(1), source=source, start_line=d.start_line,
                                           end_line=d.start_line if mm.group(1) in nfkc(lines[d.start_line - 1])
                                           else d.end_line)
        title_text = join_lines(lines, sheet.title_start, sheet.title_end)
        if k := _kind(lines, sheet.start, sheet.end, source, sheet.name, sheet.title_start):
            fields["kind"] = k
        for name, headers in (("purpose", ("事業目的・概要", "事業目的、申請概要", "事業目的")),
                              ("support", ("事業概要",)), ("outcomes", ("成果目標",))):
            for header in headers:
                body = _section_body(lines, sheet.start, sheet.end, header, skip)
                if body:
                    fields[name] = body.model_copy(update={"source": source, "value": body.value.lstrip("- ")})
                    break
        fields.update(cap_rate_period(lines, sheet.start, sheet.end, source))
        if t := _target(lines, sheet.start, sheet.end, source, skip):
            fields["target"] = t
        contacts = [n for n in range(sheet.start, sheet.end + 1) if _CONTACT_RE.match(lines[n - 1])]
        if contacts:
            run = [contacts[0]] + [n for a, n in itertools.pairwise(contacts) if n - a <= 1]
            fields["contact"] = Cited(value=join_lines_spaced(lines, run[0], run[-1]), source=source,
                                      start_line=run[0], end_line=run[-1])
        label = _BUDGET_LABEL_RE.match(nfkc(budget))
        pid = f"{sheet.name}｜{squash(label.group(1)) if label else squash(budget)}"
        nicknames = program_nicknames(sheet.name, sheet.nickname, glossary)
        programs.append(Program(
            id=pid, name=sheet.name, nicknames=nicknames,
            heading=Cited(value=title_text, source=source, start_line=sheet.title_start, end_line=sheet.title_end),
            fields={k: fields[k] for k in FIELDS if k in fields},
        ))
    programs.extend(_subprograms(doc, glossary, sheets, programs))
    return programs


# --- programs described inside a sheet ------------------------------------------------------------


@dataclass
class SubHeading:
    name: str
    nickname: str
    line: int


def find_subprograms(doc: Document, glossary: Glossary) -> list[SubHeading]:
    """「（１）ものづくり・商業・サービス生産性向上促進事業（ものづくり補助金）」: a program inside a sheet."""
    out = []
    for n, line in enumerate(doc.lines, 1):
        m = _SUB_RE.match(nfkc(line))
        if not m:
            continue
        name, inner = m.group(1), m.group(2)
        aliases = {name_key(a) for a in glossary_aliases(name, glossary)}
        if name_key(inner) in aliases or NICKNAME_SUFFIX_RE.search(inner):
            out.append(SubHeading(raw_slice(line, name), raw_slice(line, inner), n))
    return out


def _subprograms(doc: Document, glossary: Glossary, sheets: list[Sheet], parents: list[Program]) -> list[Program]:
    lines, source = doc.lines, doc.source
    heads = find_subprograms(doc, glossary)
    out: list[Program] = []
    for idx, head in enumerate(heads):
        sheet_idx = next((i for i, s in enumerate(sheets) if s.start <= head.line <= s.end), None)
        parent = parents[sheet_idx] if sheet_idx is not None else None
        region_end = sheets[sheet_idx].end if sheet_idx is not None else min(len(lines), head.line + 12)
        nxt = next((h.line for h in heads[idx + 1:] if h.line > head.line), None)
        end = min(region_end, nxt - 1 if nxt else region_end, head.line + 12)
        fields: dict[str, Cited] = {}
        # Support: the first sentence after the heading (skipping a 「（補助上限：…）」 line).
        first = last = None
        for n in range(head.line + 1, end + 1):
            raw = lines[n - 1].strip()
            if not raw:
                if first is not None and last is not None and join_lines(lines, first, last).endswith("。"):
                    break
                continue
            if re.match(r"^[（(].*(補助|上限)", nfkc(raw)) or raw.startswith("※") or is_header(raw):
                if first is None:
                    continue
                break
            first = first or n
            last = n
            if join_lines(lines, first, last).endswith("。"):
                break
        if first is not None and last is not None:
            fields["support"] = Cited(value=join_lines(lines, first, last).lstrip("- "), source=source,
                                      start_line=first, end_line=last)
        fields.update(cap_rate_period(lines, head.line + 1, end, source))
        if sheet_idx is not None:
            sheet = sheets[sheet_idx]
            if o := _bracket_block(lines, sheet.start, sheet.end, head.nickname):
                fields["outcomes"] = o.model_copy(update={"source": source})
        kind = "補助" if re.search(r"補助金$", head.nickname) else None
        if kind:
            fields["kind"] = Cited(value=kind, source=source, start_line=head.line, end_line=head.line)
        name = head.name
        pid = f"{name}｜{parent.id if parent else source}"
        out.append(Program(
            id=pid, name=name, parent=parent.id if parent else None,
            nicknames=program_nicknames(name, head.nickname, glossary),
            heading=Cited(value=lines[head.line - 1].strip(), source=source, start_line=head.line,
                          end_line=head.line),
            fields={k: fields[k] for k in FIELDS if k in fields},
        ))
    return out


def _bracket_block(lines: Sequence[str], start: int, end: int, nickname: str) -> Cited | None:
    """The lines under 「【ものづくり補助金】」 in a sheet's 成果目標, up to the next 【…】 or header."""
    key = squash(f"【{nickname}】")
    h = next((n for n in range(start, end + 1) if squash(lines[n - 1]) == key), None)
    if h is None:
        return None
    first = last = None
    for n in range(h + 1, end + 1):
        raw = lines[n - 1].strip()
        if raw.startswith("【") or is_header(raw):
            break
        if raw:
            first = first or n
            last = n
    if first is None or last is None:
        return None
    return Cited(value=join_lines(lines, first, last), source="", start_line=first, end_line=last)
