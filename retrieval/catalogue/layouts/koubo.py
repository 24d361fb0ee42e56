"""The 公募要領 layout: one entry per call document (program and 申請枠), read from its general signals.

A 公募要領 (募集要項, 公募要項) names its program and 枠 on the cover, states its purpose under a heading
with 目的, who may apply under a heading with 対象 (事業者/者), and its money in a table whose header row
names the columns (補助対象経費 / 補助率 / 補助額, in any order) and whose cells PDF extraction has
flattened into lines in that order; or in label-value lines (「補助上限額 3,000万円」「補助率 2/3以内」).
The deadline is the line that speaks of 締切 (a date, or where the schedule is published); the period the
line under a 期間 label that runs from one point to another (「交付決定日～６ヶ月間程度」). Every value is
the document's own lines joined, cited at those lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from retrieval.catalogue.layouts.text import join_lines
from retrieval.catalogue.model import FIELDS, Cited, Program
from retrieval.chunking import heading_level
from retrieval.glossary import Glossary
from retrieval.identity import Identity, read_identity
from retrieval.text import nfkc, squash
from retrieval.types import Document

name = "公募要領"
exclusive = True  # a call document is read by this layout alone (see layouts.LAYOUTS)

KINDS_OF_CALL = ("公募要領", "募集要項", "公募要項", "募集要領")
_RATE_RE = re.compile(r"\d+\s*/\s*\d+|\d+\s*分の\s*\d+|\d+(?:\.\d+)?\s*[%％]|定額")
_AMOUNT_RE = re.compile(r"\d[\d,]*\s*(?:億|万|千)?\s*円|下限なし|上限なし")
_HEADER_CELLS = {"expenses": re.compile(r"^(補助|助成)?対象経費$"), "rate": re.compile(r"^(補助|助成)率$"),
                 "cap": re.compile(r"^(補助|助成)(額|上限額?|金額)$")}
_CAP_LABEL_RE = re.compile(r"^(補助|助成)(上限額?|限度額|金額の上限)\s*[：:]?\s*(?=\S)")
_RATE_LABEL_RE = re.compile(r"^(補助|助成)率\s*[：:]?\s*(?=\S)")
_EXPENSE_LABEL_RE = re.compile(r"^(補助|助成)対象(経費)?\s*[：:]?\s*(?=\S)")
_DEADLINE_RE = re.compile(r"(締切|締め切り|〆切|受付期限|提出期限)")
_PERIOD_LABEL_RE = re.compile(r"(事業|実施).{0,12}期間")
_CONTACT_RE = re.compile(r"(TEL|Tel|電話|ＴＥＬ)\s*[：:]?\s*[0-9０-９][0-9０-９\-－]{8,}")
_NOTE_RE = re.compile(r"^[※＊*]")


def applies(doc: Document, identity: Identity) -> bool:
    return identity.kind in KINDS_OF_CALL


def programs(doc: Document, glossary: Glossary, title: str = "", identity: Identity | None = None) -> list[Program]:
    """The call this document announces, as one catalogue entry (none when it is not a 公募要領)."""
    identity = identity or read_identity(doc.lines)
    if not applies(doc, identity) or not identity.program:
        return []
    lines, source = doc.lines, doc.source
    program = identity.program
    label = f"{program}（{identity.track}）" if identity.track else program
    at = _cover_line(lines, program)
    fields: dict[str, Cited] = {}
    if (at is not None and "補助" in nfkc(lines[at - 1])) or re.search(r"補助金", program):
        fields["kind"] = Cited(value="補助", source=source, start_line=at or 1, end_line=at or 1)
    heads = _headings(lines)
    if purpose := _first_sentence_under(lines, heads, lambda h: "目的" in h, source):
        fields["purpose"] = purpose
    if target := _first_sentence_under(lines, heads, lambda h: "対象" in h and re.search(r"(事業者|者)", h)
                                       and "対象外" not in h, source):
        fields["target"] = target
    money = {}
    for start, end in [*_money_sections(lines, heads), (1, len(lines))]:
        money = _money_table(lines, heads, source, start, end) or _money_labels(lines, source, start, end)
        if money:
            break
    fields.update({k: v for k, v in money.items() if k in ("rate", "cap")})
    if "expenses" in money:
        fields["support"] = money["expenses"]  # what the call pays for: its 補助対象経費
    if deadline := _deadline(lines, source):
        fields["deadline"] = deadline
    if period := _period(lines, source):
        fields["period"] = period
    if contact := _contact(lines, source):
        fields["contact"] = contact
    base = re.sub(r"\s*(20\d\d|令和\d+年度?)$", "", program)
    nicknames = [n for n in dict.fromkeys([f"{base}{identity.track}", f"{program}{identity.track}"])
                 if identity.track and squash(n) != squash(label)]
    heading = Cited(value=lines[at - 1].strip(), source=source, start_line=at, end_line=at) if at else \
        Cited(value=lines[0].strip(), source=source, start_line=1, end_line=1)
    return [Program(id=f"{label}｜{source}", name=label, nicknames=nicknames, heading=heading,
                    fields={k: fields[k] for k in FIELDS if k in fields})]


def _cover_line(lines: Sequence[str], program: str) -> int | None:
    key = squash(program)
    return next((n for n, ln in enumerate(lines[:200], 1) if key and key in squash(ln)), None)


def _headings(lines: Sequence[str]) -> list[tuple[int, int, str]]:
    """(line, level, text) of every heading, as the chunker reads them (table-of-contents lines excluded)."""
    out = []
    content = [(n, ln) for n, ln in enumerate(lines, 1) if ln.strip()]
    for i, (n, ln) in enumerate(content):
        nxt = content[i + 1][1] if i + 1 < len(content) else None
        level = heading_level(ln, nxt)
        if level is not None:
            out.append((n, level, nfkc(ln).strip()))
    return out


def _section_end(lines: Sequence[str], heads: list[tuple[int, int, str]], start: int) -> int:
    level = next(lv for n, lv, _ in heads if n == start)
    nxt = next((n for n, lv, _ in heads if n > start and lv <= level), len(lines) + 1)
    return nxt - 1


def _first_sentence_under(lines: Sequence[str], heads, wanted, source: str) -> Cited | None:
    """The first sentence of prose under the first heading `wanted` accepts (a run of lines up to 「。」)."""
    for start, _, text in heads:
        if not wanted(text):
            continue
        end = _section_end(lines, heads, start)
        first = last = None
        for n in range(start + 1, min(end, start + 40) + 1):
            raw = lines[n - 1].strip()
            if not raw:
                if first is not None:
                    break
                continue
            if first is None and (len(raw) < 12 or _NOTE_RE.match(raw) or any(h == n for h, _, _ in heads)):
                continue
            first = first or n
            last = n
            if _sentence_end(join_lines(lines, first, last)) is not None:
                break
        if first is not None and last is not None:
            value = join_lines(lines, first, last)
            stop = _sentence_end(value)
            return Cited(value=value[:stop + 1] if stop is not None else value, source=source, start_line=first,
                         end_line=last)
    return None


def _sentence_end(text: str) -> int | None:
    """Index of the first 「。」 outside brackets (「（以下「補助事業」という。）」 does not end a sentence)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "（(「『":
            depth += 1
        elif ch in "）)」』":
            depth = max(0, depth - 1)
        elif ch == "。" and depth == 0:
            return i
    return None


def _money_sections(lines: Sequence[str], heads) -> list[tuple[int, int]]:
    """The sections whose heading speaks of the money (補助率, 補助額, 補助上限): where the call's own figures
    stand, rather than an overview table of every 枠 on the first pages."""
    return [(n, _section_end(lines, heads, n)) for n, _, text in heads
            if re.search(r"(補助|助成)(率|額|上限)", text)]


def _money_table(lines: Sequence[str], heads, source: str, first: int, final: int) -> dict[str, Cited]:
    """A flattened table under a header row naming 対象経費 / 補助率 / 補助額 columns: each column's cells are
    the lines from where its kind of value starts (a rate, an amount) to where the next column's starts."""
    for n in range(first, final + 1):
        raw = lines[n - 1]
        cells = nfkc(raw).split()
        kinds = [next((k for k, p in _HEADER_CELLS.items() if p.match(c)), None) for c in cells]
        if not (2 <= len(cells) <= 6 and "rate" in kinds and "cap" in kinds):
            continue
        order = [k for k in kinds if k]
        out: dict[str, Cited] = {}
        spans: dict[str, list[int]] = {}
        column = 0
        for k in range(n + 1, min(len(lines), n + 40) + 1):
            text = nfkc(lines[k - 1]).strip()
            if not text or (_NOTE_RE.match(text) and column == len(order) - 1) or any(h == k for h, _, _ in heads):
                break
            # the line belongs to the next column when it starts that column's kind of value
            while column + 1 < len(order) and _starts(order[column + 1], text) and spans.get(order[column]):
                column += 1
            spans.setdefault(order[column], []).append(k)
        for kind, rows in spans.items():
            if kind == "rate" and not any(_RATE_RE.search(nfkc(lines[r - 1])) for r in rows):
                continue
            if kind == "cap" and not any(_AMOUNT_RE.search(nfkc(lines[r - 1])) for r in rows):
                continue
            out[kind] = Cited(value=join_lines(lines, rows[0], rows[-1], cells=True), source=source,
                              start_line=rows[0], end_line=rows[-1])
        if "rate" in out or "cap" in out:
            return out
    return {}


def _starts(kind: str, text: str) -> bool:
    label = r"^([^、。：:]{0,20}[：:])?\s*"  # a cell may name its row first: 「レジ・券売機：…」
    if kind == "rate":
        return bool(re.match(label + r"(\d+\s*/\s*\d+|\d+\s*分の\s*\d+|定額)", text))
    if kind == "cap":
        return bool(re.match(label + r"(\d[\d,]*\s*(億|万|千)?\s*円|下限なし)", text))
    return False


def _money_labels(lines: Sequence[str], source: str, first: int, final: int) -> dict[str, Cited]:
    """Label-value lines: 「補助上限額 3,000万円 200万円」「補助率 3/4以内」「補助対象 ソフトウェア購入費…」."""
    out: dict[str, Cited] = {}
    for n in range(first, final + 1):
        raw = lines[n - 1]
        text = nfkc(raw).strip()
        for kind, pattern, check in (("cap", _CAP_LABEL_RE, _AMOUNT_RE), ("rate", _RATE_LABEL_RE, _RATE_RE),
                                     ("expenses", _EXPENSE_LABEL_RE, re.compile(r"費"))):
            m = pattern.match(text)
            if kind in out or not m or not check.search(text[m.end():]):
                continue
            last = n
            while last < len(lines) and lines[last].strip() and not _label_start(nfkc(lines[last]).strip()) \
                    and last - n < 3 and not nfkc(raw).strip().endswith("。"):
                last += 1
            value = join_lines(lines, n, last, cells=True)
            cut = len(raw.strip()) - len(raw.strip().lstrip())
            out[kind] = Cited(value=value[_raw_index(value, text[m.end():]) if cut == 0 else 0:].strip(),
                              source=source, start_line=n, end_line=last)
    return out


def _label_start(text: str) -> bool:
    return any(p.match(text) for p in (_CAP_LABEL_RE, _RATE_LABEL_RE, _EXPENSE_LABEL_RE)) or bool(
        re.match(r"^(対象|賃上げ|機能要件|補助対象|種類|区分)", text))


def _raw_index(raw: str, tail_nfkc: str) -> int:
    """Where a value (found in NFKC text) starts in the raw text."""
    key = tail_nfkc[:4]
    for i in range(len(raw)):
        if nfkc(raw[i:]).startswith(key):
            return i
    return 0


def _deadline(lines: Sequence[str], source: str) -> Cited | None:
    """The line on the 締切: a date, or where the schedule is published (a line wrapped in the middle of
    its phrase is read with the next)."""
    for n, raw in enumerate(lines, 1):
        text = nfkc(raw).strip()
        if not _DEADLINE_RE.search(text) or len(text) > 80:
            continue
        last = n
        if not text.endswith(("。", "）", ")")) and n < len(lines) and 0 < len(lines[n].strip()) <= 40:
            last = n + 1
        value = join_lines(lines, n, last)
        flat = nfkc(value)
        dated = re.search(r"\d+\s*月\s*\d+\s*日|\d{4}/\d+/\d+", flat)
        published = re.search(r"(締切|締め切り|〆切)(日|スケジュール|日程|時期)?.{0,20}(公表|公開|掲載|お知らせ)", flat)
        if not dated and not published:
            continue
        if not dated and re.search(r"(締切|締め切り|〆切)回", flat):
            continue  # 「各締切回で公表される採択結果」 speaks of results, not of the deadline
        return Cited(value=value.lstrip("※・ "), source=source, start_line=n, end_line=last)
    return None


def _period(lines: Sequence[str], source: str) -> Cited | None:
    """A 期間 label line followed by the span it names (「交付決定日～６ヶ月間程度」)."""
    for n, raw in enumerate(lines[:-1], 1):
        text = nfkc(raw).strip()
        nxt = nfkc(lines[n]).strip()
        if _PERIOD_LABEL_RE.search(text) and len(text) <= 30 and "。" not in text and re.search(r"[～~〜]", nxt) \
                and len(nxt) <= 40:
            return Cited(value=lines[n].strip(), source=source, start_line=n + 1, end_line=n + 1)
    return None


def _contact(lines: Sequence[str], source: str) -> Cited | None:
    for n, raw in enumerate(lines[:200], 1):
        m = _CONTACT_RE.search(nfkc(raw))
        if m:
            return Cited(value=raw.strip(), source=source, start_line=n, end_line=n)
    return None
