"""Line helpers several layouts share.

The documents are converted PDFs: sentences broken across lines, pages separated by blank lines, values
behind labels (補助上限：…, 補助率：…), nicknames in parentheses. These helpers join, locate and cut such
lines so that every value stays a verbatim, citable piece of the document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from retrieval.catalogue.model import Cited, name_key
from retrieval.glossary import Glossary
from retrieval.text import nfkc, squash

_PAGE_BREAK = 3  # blank lines between PDF pages in the converted text
_HEADERS = ("事業目的・概要", "事業目的、申請概要", "事業目的", "事業概要", "成果目標", "事業スキーム", "事業の内容",
            "条件（対象者", "背景・必要性", "事業イメージ", "補助対象要件", "各省の役割", "予算配分額", "補助対象経費",
            "主要申請要件", "補助金額・補助率", "予算額・補助額・補助率")
NICKNAME_SUFFIX_RE = re.compile(r"(補助金|事業|プロジェクト|制度)$")
TARGET_SENTENCE_RE = re.compile(r"([^。]*?)(?:を対象と|を対象に)")
_RATE_RE = re.compile(r"補助率\s*[：:︓]?\s*(\S.*?)\s*$")
_CAP_RE = re.compile(r"(補助上限額?|補助額)\s*[：:︓]?\s*(.*?)\s*$")
_SCHEME_RATE_RE = re.compile(r"^[（(]\s*((?:原則)?\s*[0-9０-９]+\s*/\s*[0-9０-９]+[^）)]*|定額|"
                             r"[0-9０-９]+\s*/\s*[0-9０-９]+\s*等)\s*[）)]$")
_INLINE_SCHEME_RATE_RE = re.compile(r"(補助\s*[（(]\s*(?:原則)?\s*(?:[0-9０-９]+\s*/\s*[0-9０-９]+|定額)[^）)]*[）)])")
_PERIOD_RES = (
    re.compile(r"(?:補助)?事業期間\s*[：:︓]?\s*([^\s。）)、]+(?:\s*年[^\s。）)、]*)?)"),
    re.compile(r"((?:令和|平成)\s*[0-9０-９元]+\s*年度?から(?:令和|平成)?\s*[0-9０-９]+\s*年度?までの\s*[0-9０-９]+\s*年間)"),
    re.compile(r"(最大\s*[0-9０-９]+\s*年間)"),
)


def squash_line(s: str) -> str:
    return squash(s.replace("**", ""))


def page_ranges(lines: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) 1-based line ranges separated by runs of >= 3 empty lines (PDF page breaks).

    Lines of spaces are text-box leftovers inside a page, not breaks: only truly empty lines count.
    """
    pages, start, blanks = [], 1, 0
    for i, line in enumerate(lines, 1):
        if line == "":
            blanks += 1
            continue
        if line.strip() and blanks >= _PAGE_BREAK and i - blanks > start:
            pages.append((start, i - blanks - 1))
            start = i
        blanks = 0
    pages.append((start, len(lines)))
    return pages


def split_name(title: str, glossary: Glossary) -> tuple[str, str | None]:
    """「…事業（Go-Tech事業）」 -> (…事業, Go-Tech事業) when the parenthesis is a nickname, not a qualifier."""
    m = re.match(r"^(.+?)\s*[（(]([^（()）]+)[)）]\s*$", title)
    if not m:
        return title, None
    base, inner = m.group(1), m.group(2)
    aliases = {name_key(a) for a in glossary_aliases(base, glossary)}
    if name_key(inner) in aliases or (re.search(r"[A-Za-z]", inner) and NICKNAME_SUFFIX_RE.search(inner)):
        return base, inner
    return title, None


def glossary_aliases(name: str, glossary: Glossary) -> list[str]:
    key = name_key(name)
    for official, aliases in glossary.programs.items():
        if name_key(official) == key:
            return aliases
    return []


def is_header(line: str) -> bool:
    s = squash_line(line)
    return any(s.startswith(squash(h)) for h in _HEADERS)


def join_lines(lines: Sequence[str], start: int, end: int, cells: bool = False) -> str:
    """Lines start..end joined as one text: PDF breaks inside a sentence vanish, list items keep a space.
    With `cells` (a table flattened by PDF extraction), a note (※) or a figure opening a line after an
    amount or a rate (「…以内」「…円」) starts a new cell and keeps a space too."""
    out = ""
    for n in range(start, end + 1):
        s = lines[n - 1].strip()
        if not s:
            continue
        if out and ((out[-1] in "。）)" and s[0] in "・○〇●◆■-•①②③④⑤⑥⑦⑧⑨※（(") or
                    (out[-1].isascii() and out[-1].isalnum() and s[0].isascii() and s[0].isalnum()) or
                    (cells and (s[0] in "※＊*" or (re.match(r"^[0-9０-９]", s) and re.search(r"[円上内下]$", out))))):
            out += " "
        out += s
    return out


def join_lines_spaced(lines: Sequence[str], start: int, end: int) -> str:
    return " ".join(lines[n - 1].strip() for n in range(start, end + 1) if lines[n - 1].strip())


def _first_match(lines: Sequence[str], start: int, end: int, pattern: re.Pattern[str],
                 group: int = 1) -> tuple[str, int] | None:
    for n in range(start, end + 1):
        m = pattern.search(lines[n - 1])
        if m and m.group(group).strip():
            return m.group(group).strip(), n
    return None


def _clean_value(v: str) -> str:
    """Cut a label's value at the next label (「100万円、補助率：3/4）」 -> 「100万円」)."""
    v = re.split(r"[、,]\s*(?=補助率|補助上限|補助額|補助対象)", v)[0].split("\t")[0]
    if v.count("）") > v.count("（") and v.endswith("）"):
        v = v[:-1]
    if v.count(")") > v.count("(") and v.endswith(")"):
        v = v[:-1]
    return v.strip()


def cap_rate_period(lines: Sequence[str], start: int, end: int, source: str) -> dict[str, Cited]:
    """補助上限 / 補助率 / 事業期間 lines (and the rate in a scheme diagram: 「補助\n（2/3）」)."""
    out: dict[str, Cited] = {}
    for n in range(start, end + 1):
        line = nfkc(lines[n - 1]).strip()
        if "rate" not in out and (m := _RATE_RE.search(line)) and re.search(r"\d|定額", m.group(1)):
            out["rate"] = Cited(value=_clean_value(lines[n - 1].strip()[_raw_offset(lines[n - 1], m.start(1)):]),
                                source=source, start_line=n, end_line=n)
        if "cap" not in out and (m := _CAP_RE.search(line)):
            value, last = m.group(2), n
            if not value and squash(line) in {"補助上限", "補助上限額"}:  # the amount is on the next lines
                value, last = "", n
                for k in range(n + 1, min(end, n + 3) + 1):
                    if lines[k - 1].strip():
                        last = k
                        if "円" in lines[k - 1]:
                            break
                value = join_lines(lines, n + 1, last) if last > n else ""
                if value and "円" in value:
                    out["cap"] = Cited(value=value, source=source, start_line=n + 1, end_line=last)
            elif re.search(r"円", value):
                raw = lines[n - 1].strip()
                out["cap"] = Cited(value=_clean_value(raw[_raw_offset(lines[n - 1], m.start(2)):]), source=source,
                                   start_line=n, end_line=n)
        if "period" not in out:
            for pattern in _PERIOD_RES:
                if (m := pattern.search(line)) and re.search(r"\d|[０-９]", m.group(1)):
                    out["period"] = Cited(value=raw_slice(lines[n - 1], m.group(1)), source=source, start_line=n,
                                          end_line=n)
                    break
    if "rate" not in out:
        # The scheme diagram: 「補助（2/3）」 or 「補助」 over 「（1/3以下）」. A fraction (what the recipient
        # gets) wins over 定額 (often the grant to the administering body).
        found: list[Cited] = []
        for n in range(start, end + 1):
            raw = lines[n - 1].strip()
            at = raw.find("補助")
            if at < 0:
                continue
            tail = raw[at:]
            if not re.match(r"^補助※?\s*(?:[（(]|$)", nfkc(tail)):
                continue
            # the parenthesis may close on this line, or on one of the next two non-blank lines
            text, last, k = tail, n, n + 1
            while not re.search(r"[）)]", text[text.find("補助") + 2:]) and k <= min(end, n + 4):
                nxt = lines[k - 1].strip()
                if nxt:
                    if (not text.rstrip("※").endswith("補助") and not re.search(r"[（(]", text)) or \
                            (text.rstrip("※").endswith("補助") and not re.match(r"^[（(]", nfkc(nxt))):
                        break
                    text, last = text + nxt, k
                k += 1
            m = re.match(r"^(補助※?\s*[（(][^）)]*[）)])", nfkc(text))
            if not m or not re.search(r"\d\s*/\s*\d|定額", m.group(1)):
                continue
            found.append(Cited(value=raw_slice(text, m.group(1)), source=source, start_line=n, end_line=last))
        if found:
            out["rate"] = next((c for c in found if re.search(r"\d", c.value)), found[0])
    return out


def _raw_offset(raw: str, nfkc_offset: int) -> int:
    """Map an offset in nfkc(raw).strip() back to raw.strip() (NFKC keeps lengths for these documents' text)."""
    stripped = raw.strip()
    return nfkc_offset if len(nfkc(stripped)) == len(stripped) else _scan_offset(stripped, nfkc_offset)


def _scan_offset(stripped: str, nfkc_offset: int) -> int:
    for i in range(len(stripped) + 1):
        if len(nfkc(stripped[:i])) >= nfkc_offset:
            return i
    return len(stripped)


def raw_slice(raw: str, normalised: str) -> str:
    """The raw spelling of a piece found in nfkc(raw) (kept verbatim for citations)."""
    stripped = raw.strip()
    for i in range(len(stripped)):
        for j in range(i + 1, len(stripped) + 1):
            if nfkc(stripped[i:j]) == normalised:
                return stripped[i:j]
    return normalised


def _common_prefix(a: str, b: str) -> int:
    a, b = name_key(a), name_key(b)
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def program_nicknames(name: str, nickname: str | None, glossary: Glossary) -> list[str]:
    """The nickname written beside the name, its glossary aliases, and glossary names sharing an alias
    (ものづくり・商業・サービス生産性向上促進補助金 is another official spelling of ものづくり補助金)."""
    out: list[str] = []
    for n in [nickname, *glossary_aliases(name, glossary)]:
        if n and name_key(n) != name_key(name) and n not in out:
            out.append(n)
    keys = {name_key(n) for n in out}
    for official, aliases in glossary.programs.items():
        if name_key(official) != name_key(name) and official not in out and _common_prefix(official, name) >= 8 and any(
                name_key(a) in keys for a in aliases if name_key(a).endswith("補助金")):
            out.append(official)
    return out
