"""A call record synced from jGrants (retrieval/jgrants/record.py): 「【jGrants公募情報】title」, then one
「label: value」 line per fact the portal gives. The entry takes the call's 受付期間 as its deadline (so
`status` says 受付中 / 受付終了 / 公募予定), its cap and rate as given, and its area, employee band and industry
as its target, each cited at its own lines.
"""

from __future__ import annotations

import re

from retrieval.catalogue.model import Cited, Program
from retrieval.glossary import Glossary
from retrieval.types import Document

name = "jgrants_call"
exclusive = True  # a record is read by this layout alone

HEADER = "【jGrants公募情報】"  # as retrieval/jgrants/record.py writes it
_LABEL_RE = re.compile(r"^([^:：]{2,12})[:：]\s*(.+)$")
_FIELDS = {"受付期間": "deadline", "補助上限額": "cap", "補助率": "rate", "利用目的": "purpose", "実施機関": "division",
           "問い合わせ": "contact"}
_TARGET = ("対象地域", "対象地域の詳細", "対象従業員数", "対象業種")


def programs(doc: Document, glossary: Glossary, title: str = "") -> list[Program]:
    """The call as one entry; none when the document is not a jGrants record."""
    lines, source = doc.lines, doc.source
    if not lines or not lines[0].startswith(HEADER):
        return []
    call = lines[0].removeprefix(HEADER).strip()
    fields: dict[str, Cited] = {}
    target: list[int] = []
    for n, line in enumerate(lines[1:], 2):
        m = _LABEL_RE.match(line.strip())
        if not m:
            break  # the label lines end where the detail text begins
        label, value = m.group(1).strip(), m.group(2).strip()
        if label in _FIELDS and _FIELDS[label] not in fields:
            fields[_FIELDS[label]] = Cited(value=value, source=source, start_line=n, end_line=n)
        elif label == "申請締切" and "deadline" not in fields:
            fields["deadline"] = Cited(value=value, source=source, start_line=n, end_line=n)
        elif label in _TARGET and (not target or target[-1] == n - 1):
            target.append(n)
    if target:
        text = " ".join(lines[n - 1].strip() for n in target)
        fields["target"] = Cited(value=text, source=source, start_line=target[0], end_line=target[-1])
    if "補助金" in call or "cap" in fields or "rate" in fields:
        fields["kind"] = Cited(value="補助", source=source, start_line=1, end_line=1)
    heading = Cited(value=call, source=source, start_line=1, end_line=1)
    return [Program(id=f"jgrants:{source}", name=call, heading=heading, fields=fields)]
