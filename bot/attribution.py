"""Which call document an answer quotes, said in the answer: 「IT導入補助金2025 公募要領（通常枠）（2025年3月24日版）」.

An advisor quoting a figure to a client has to name the 公募要領 it comes from, and a figure from an older
version of a call must not read as the current one. The quoted sentences carry the passage's citation, but
not which version of which call it is; this line says it, for every cited document the manifest gives an
identity (a program), cited at the document's first quoted passage. Documents without one (budget sheets,
white papers) get no line: their title says nothing a reader needs to tell versions apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.schema import Citation
from retrieval.corpus import Manifest
from retrieval.search import DocumentNames

MAX_DOCUMENTS = 2  # an answer quoting more calls names the first few; the citations list them all


def source_lines(citations: Sequence[Citation], manifest: Manifest, names: DocumentNames) -> list[str]:
    """One 〔資料〕 line per cited call document (in citation order), with the marker of its first citation."""
    lines: list[str] = []
    seen: set[str] = set()
    for c in citations:
        entry = manifest.entry(c.source)
        if c.source in seen or entry is None or not entry.program:
            continue
        seen.add(c.source)
        text = f"〔資料〕{_named(entry.title or c.title, entry.date)}より"
        newer = names.newest_version(c.source)
        if newer and newer != c.source and (other := manifest.entry(newer)):
            text += f"（この資料より新しい版があります: {_named(other.title, other.date)}）"
        lines.append(f"{text}[{c.n}]")
        if len(lines) == MAX_DOCUMENTS:
            break
    return lines


def _named(title: str, date: str) -> str:
    """「title」（2025年3月24日版）: the version's date as a reader writes it, when the manifest has one."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", date or "")
    version = f"（{int(m[1])}年{int(m[2])}月{int(m[3])}日版）" if m else ""
    return f"「{title}」{version}"
