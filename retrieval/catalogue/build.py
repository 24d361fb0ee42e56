"""Drafting the catalogue (`advisor catalogue build`).

Runs the document layouts (see `layouts.LAYOUTS`) over the corpus, adds an entry citing where every other
glossary program a document names is named, and merges the drafts into the committed file without
touching entries a person has reviewed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.catalogue.check import load_documents
from retrieval.catalogue.layouts import LAYOUTS
from retrieval.catalogue.layouts.text import join_lines, program_nicknames
from retrieval.catalogue.model import CATALOGUE, PROGRAM_NAME_RE, Catalogue, CatalogueError, Cited, Program, name_key
from retrieval.corpus import Manifest
from retrieval.glossary import Glossary
from retrieval.text import nfkc
from retrieval.types import Document


@dataclass
class BuildReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept_reviewed: list[str] = field(default_factory=list)
    stale_reviewed: list[str] = field(default_factory=list)  # reviewed, no longer extracted: kept, check them
    draft_differs: list[str] = field(default_factory=list)  # reviewed, kept, but a fresh draft reads otherwise
    dropped: list[str] = field(default_factory=list)  # extracted drafts whose program left the documents


def extract(docs: dict[str, Document], glossary: Glossary, titles: dict[str, str] | None = None) -> list[Program]:
    """Draft entries from all documents, in document and line order; repeated sheets kept once.

    Entries come from the layouts (`layouts.LAYOUTS`): one per budget sheet (and per program described
    inside a sheet); for a document without a sheet of its own, one for a document about a single program
    (its manifest title names it, e.g. the サポイン evaluation) and one per white-paper measure; and, for
    every other glossary program a document names, an entry citing where it is named, so nothing the
    documents mention is silently absent.
    """
    titles = titles or {}
    exclusive = [layout for layout in LAYOUTS if getattr(layout, "exclusive", False)]
    first, *others = [layout for layout in LAYOUTS if layout not in exclusive]
    out: dict[str, Program] = {}
    for source in sorted(docs):
        doc, title = docs[source], titles.get(source, "")
        # A document of an exclusive layout (a 公募要領) is read by that layout alone.
        programs = next((found for found in (layout.programs(doc, glossary, title) for layout in exclusive)
                         if found), [])
        if not programs:
            programs = first.programs(doc, glossary, title)
            if not any(p.parent is None for p in programs):
                # No program of the document's own: the other layouts, in order. The second layout's entries
                # (the program the document is about) go before the sub-programs found, the rest after them.
                found = [layout.programs(doc, glossary, title) for layout in others]
                programs = [*found[0], *programs, *(p for more in found[1:] for p in more)]
        for p in programs:
            out.setdefault(p.id, p)
    known = {name_key(n) for p in out.values() for n in p.names()}
    for source in sorted(docs):
        for p in _mentions(docs[source], glossary, known):
            out.setdefault(p.id, p)
            known.update(name_key(n) for n in p.names())
    return list(out.values())


def _mentions(doc: Document, glossary: Glossary, known: set[str]) -> list[Program]:
    """Glossary programs (事業/補助金/制度/助成金/税制) a document names that no other entry covers."""
    out = []
    for official, _ in sorted(glossary.programs.items()):
        key = name_key(official)
        if not PROGRAM_NAME_RE.search(nfkc(official)) or key in known or any(
                k.startswith(key) for k in known):
            continue
        for n in range(1, len(doc.lines) + 1):
            end = min(len(doc.lines), n + 1)
            if key in name_key(doc.lines[n - 1]):
                end = n
            elif not (key in name_key(join_lines(doc.lines, n, end)) and key not in name_key(doc.lines[end - 1])):
                continue
            kind = "補助" if official.endswith("補助金") else None
            fields = {"kind": Cited(value=kind, source=doc.source, start_line=n, end_line=end)} if kind else {}
            out.append(Program(id=f"{official}｜{doc.source}", name=official,
                               nicknames=program_nicknames(official, None, glossary),
                               heading=Cited(value=official, source=doc.source, start_line=n, end_line=end),
                               fields=fields))
            break
    return out


def merge(existing: Catalogue, drafts: list[Program], redraft: Iterable[str] = ()) -> tuple[Catalogue, BuildReport]:
    """Reviewed entries stay as they are; extracted drafts replace earlier drafts; new ones are added.

    `redraft` names reviewed entries a person wants drafted again (they come back as `extracted`).
    """
    report = BuildReport()
    old = existing.by_id()
    unknown = set(redraft) - set(old)
    if unknown:
        raise CatalogueError(f"no entry with id {sorted(unknown)[0]!r} to draft again")
    old = {k: v for k, v in old.items() if k not in set(redraft)}
    merged: dict[str, Program] = {}
    for d in drafts:
        prev = old.get(d.id)
        if prev is not None and prev.reviewed:
            merged[d.id] = prev
            report.kept_reviewed.append(d.id)
            if (prev.fields, prev.nicknames, prev.heading) != (d.fields, d.nicknames, d.heading):
                report.draft_differs.append(d.id)
        else:
            merged[d.id] = d
            if prev is None:
                report.added.append(d.id)
            elif prev != d:
                report.updated.append(d.id)
    for p in existing.programs:
        if p.id in merged:
            continue
        if p.reviewed:
            merged[p.id] = p
            report.stale_reviewed.append(p.id)
        else:
            report.dropped.append(p.id)
    ordered = sorted(merged.values(), key=lambda p: (p.heading.source, p.heading.start_line, p.id))
    return Catalogue(ordered), report


def build(corpus_dir: Path, path: Path | None = None, on_error=None,
          redraft: Iterable[str] = ()) -> tuple[Catalogue, BuildReport]:
    """Extract drafts from the corpus and merge them into the catalogue at `path` (not written here)."""
    path = path or corpus_dir / CATALOGUE
    docs = load_documents(corpus_dir, on_error)
    glossary = Glossary.load(corpus_dir / "glossary.yaml")
    titles = {f: e.title for f, e in Manifest.load(corpus_dir).entries.items()}
    return merge(Catalogue.load(path), extract(docs, glossary, titles), redraft)
