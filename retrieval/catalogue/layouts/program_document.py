"""A document about one program, e.g. the サポイン evaluation report.

Its manifest title names a glossary program; the entry takes that program's scheme block (対象事業) and
目的 line.
"""

from __future__ import annotations

import re

from retrieval.catalogue.layouts.text import cap_rate_period, join_lines, program_nicknames, squash_line
from retrieval.catalogue.model import FIELDS, Cited, Program
from retrieval.glossary import Glossary
from retrieval.text import nfkc, squash
from retrieval.types import Document

name = "program_document"


def programs(doc: Document, glossary: Glossary, title: str) -> list[Program]:
    """The layout's entries (see `layouts.Layout`): the program the title names, if the document has it."""
    doc_program = _document_program(doc, glossary, title)
    return [doc_program] if doc_program else []


def _document_program(doc: Document, glossary: Glossary, title: str) -> Program | None:
    """A document about one program (its title names a glossary program): its scheme block and 目的 line."""
    lines, source = doc.lines, doc.source
    officials = sorted((o for o in glossary.programs if re.search(r"(事業|補助金|制度)$", o)
                        and squash(o) in squash(title)), key=len, reverse=True)
    if not officials:
        return None
    name = officials[0]
    at = next((n for n, ln in enumerate(lines, 1) if squash(ln).startswith(squash(name))),
              next((n for n, ln in enumerate(lines, 1) if squash(name) in squash(ln)), None))
    if at is None:
        return None
    fields: dict[str, Cited] = {}
    blocks = [n for n, ln in enumerate(lines, 1) if squash_line(ln) == "対象事業"]
    if blocks:  # the newest scheme block (the documents list the current rules last)
        start = blocks[-1]
        fields.update(cap_rate_period(lines, start, min(len(lines), start + 20), source))
        body_lines = [n for n in range(start + 1, min(len(lines), start + 6) + 1) if lines[n - 1].strip()][:2]
        if body_lines:
            fields["support"] = Cited(value=join_lines(lines, body_lines[0], body_lines[-1]), source=source,
                                      start_line=body_lines[0], end_line=body_lines[-1])
    for n, ln in enumerate(lines, 1):
        m = re.match(r"^\s*目的\s*[：:︓]\s*(\S.*)$", nfkc(ln))
        if m:
            last = n
            while last < len(lines) and not join_lines(lines, n, last).endswith("。") and lines[last].strip():
                last += 1
            text = join_lines(lines, n, last)
            fields["purpose"] = Cited(value=text[text.find("目的") + 3:].lstrip(), source=source,
                                      start_line=n, end_line=last)
            break
    for n, ln in enumerate(lines, 1):
        if m := re.match(r"^\s*実施形態\s*(\S.*)$", ln):
            if "補助金" in m.group(1):
                fields["kind"] = Cited(value="補助", source=source, start_line=n, end_line=n)
            break
    return Program(id=f"{name}｜{source}", name=name, nicknames=program_nicknames(name, None, glossary),
                   heading=Cited(value=name, source=source, start_line=at, end_line=at),
                   fields={k: fields[k] for k in FIELDS if k in fields})
