"""White papers (白書): numbered measure headings such as 「⑫環境調和型プロセス技術の開発事業（42億円）」.

The layout of a document with no budget sheet of its own: each measure heading that names a program is
an entry, with the text under it as what the program does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.catalogue.layouts.text import TARGET_SENTENCE_RE, join_lines, program_nicknames, split_name
from retrieval.catalogue.model import FIELDS, Cited, Program
from retrieval.glossary import Glossary
from retrieval.text import nfkc, squash
from retrieval.types import Document

_MEASURE_RE = re.compile(r"^\s*(?:[（(][0-9０-９]{1,2}[)）]|[①-⑳])")
_MEASURE_SUFFIX_RE = re.compile(r"(事業|事業費|制度|税制|補助金|助成金|給付金|交付金|プログラム|プロジェクト|基金|融資|貸付|"
                                r"資金|支援センター|ハイスクール)$")
_MONEY_RE = re.compile(r"円|内数|財政投融資|政策金融|予算")


name = "white_paper"


def programs(doc: Document, glossary: Glossary, title: str) -> list[Program]:
    """The layout's entries (see `layouts.Layout`): one per numbered measure heading that names a program."""
    return _measures(doc, glossary)


@dataclass
class Measure:
    """A numbered measure heading of a white paper: 「⑫環境調和型プロセス技術の開発事業（42億円）」."""

    name: str
    nickname: str | None
    budget: str | None  # the parenthesised amount as written (「131億 20百万円の内数」)
    ministries: str | None  # 「＜経産省、文科省＞」 without the brackets
    start: int
    end: int
    text: str  # the heading lines joined (the document's text)


def find_measures(doc: Document, glossary: Glossary) -> list[Measure]:
    """Numbered headings that name a program (a budget in parentheses, or a program-like name); a
    heading that only repeats another (「再掲」) or groups the items under it is not one."""
    lines = doc.lines
    out: list[Measure] = []
    for n, line in enumerate(lines, 1):
        if not _MEASURE_RE.match(line):
            continue
        text, last = line.strip(), n
        for k in range(n + 1, min(len(lines), n + 3) + 1):
            nxt = lines[k - 1].strip()
            if not nxt or _MEASURE_RE.match(lines[k - 1]):  # a blank line, or the first item under a group
                break
            open_parens = len(re.findall(r"[（(＜<]", text)) - len(re.findall(r"[）)＞>]", text))
            if open_parens > 0 or (len(nxt) <= 40 and not text.endswith(("）", ")", "＞")) and (
                    re.search(r"[）)＞>]$", nxt) or re.match(r"^[（(]", nxt))):
                text, last = text + nxt, k
            else:
                break
        body = nfkc(_MEASURE_RE.sub("", text, count=1)).replace("\ufffd", "").strip()
        body = re.sub(r"\s+", "", body) if not re.search(r"[A-Za-z] [A-Za-z]", body) else body
        ministries = None
        if m := re.search(r"<([^<>]+)>$", body):
            ministries, body = m.group(1), body[:m.start()].rstrip()
        budget = None
        groups = list(re.finditer(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)", body))
        if groups and groups[-1].end() == len(body) and _MONEY_RE.search(groups[-1].group(1)):
            budget, body = groups[-1].group(1), body[:groups[-1].start()].rstrip()
        if (budget and "再掲" in budget) or "再掲" in body:
            continue
        name, nickname = split_name(body, glossary)
        if not re.search(r"[ぁ-んァ-ヶ一-龥A-Za-z]{3}", name) or len(name) > 60:
            continue
        if not (budget or _MEASURE_SUFFIX_RE.search(name)):
            continue
        out.append(Measure(name, nickname, budget, ministries, n, last, join_lines(lines, n, last)))
    return out


def _measures(doc: Document, glossary: Glossary) -> list[Program]:
    """One entry per white-paper measure heading: name, budget and ministries as written, and the first
    sentence of the text under it (what was done) as its support."""
    lines, source = doc.lines, doc.source
    out = []
    for m in find_measures(doc, glossary):
        fields: dict[str, Cited] = {}
        heading_lines = [lines[k - 1] for k in range(m.start, m.end + 1)]
        if m.budget and _raw_in(m.budget, heading_lines):
            fields["budget"] = Cited(value=_raw_in(m.budget, heading_lines), source=source, start_line=m.start,
                                     end_line=m.end)
        if m.ministries and _raw_in(m.ministries, heading_lines):
            fields["ministry"] = Cited(value=_raw_in(m.ministries, heading_lines), source=source,
                                       start_line=m.start, end_line=m.end)
        for kind, pattern in (("税制", r"税制"), ("補助", r"補助金$|補助事業$"), ("委託", r"委託費$"), ("基金", r"基金$"),
                              ("融資", r"融資|貸付|資金"), ("その他", r"交付金$|助成金$|給付金$")):
            if re.search(pattern, m.name):
                fields["kind"] = Cited(value=kind, source=source, start_line=m.start, end_line=m.end)
                break
        first = next((k for k in range(m.end + 1, min(len(lines), m.end + 3) + 1) if lines[k - 1].strip()), None)
        if first is not None and not _MEASURE_RE.match(lines[first - 1]):
            last = first
            # the first sentence, across PDF breaks and a single blank line, never into the next heading
            while last < min(len(lines), first + 10) and not join_lines(lines, first, last).endswith("。"):
                nxt = last + 1 if lines[last].strip() else last + 2
                if nxt > len(lines) or not lines[nxt - 1].strip() or _MEASURE_RE.match(lines[nxt - 1]):
                    break
                last = nxt
            text = join_lines(lines, first, last)
            if "。" in text:
                text = text[:text.index("。") + 1]
                fields["support"] = Cited(value=text.strip(), source=source, start_line=first, end_line=last)
                for k in range(first, last + 1):  # 「…を対象に」 in that sentence names who it is for
                    t = TARGET_SENTENCE_RE.search(lines[k - 1])
                    phrase = re.split(r"[、。]", t.group(1))[-1].strip().lstrip("のをにはがと") if t else ""
                    if 3 <= len(phrase) <= 60 and not re.search(r"庁|局|省", phrase):
                        fields["target"] = Cited(value=phrase, source=source, start_line=k, end_line=k)
                        break
        out.append(Program(id=f"{m.name}｜{source}", name=m.name, nicknames=program_nicknames(m.name, m.nickname, glossary),
                           heading=Cited(value=m.text, source=source, start_line=m.start, end_line=m.end),
                           fields={k: fields[k] for k in FIELDS if k in fields}))
    return out


def _raw_in(normalised: str, raw_lines: Sequence[str]) -> str | None:
    """The spelling of `normalised` (found in the NFKC, space-less heading) within the raw heading lines."""
    joined = "".join(ln.strip() for ln in raw_lines)
    target = squash(normalised)
    for i in range(len(joined)):
        if not squash(joined[i]):
            continue
        acc = ""
        for j in range(i, len(joined)):
            acc += joined[j]
            sq = squash(acc)
            if sq == target:
                return acc.strip()
            if not target.startswith(sq):
                break
    return None
