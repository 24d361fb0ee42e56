"""Proof that the catalogue still says what the documents say (`advisor catalogue check`).

Every cited value must stand at its lines, and every program the documents head or name must have an
entry; the program headings are found with the same layout readers the builder uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from retrieval.catalogue.layouts import koubo
from retrieval.catalogue.layouts.budget_sheet import BUDGET_RE, find_sheets, find_subprograms
from retrieval.catalogue.layouts.white_paper import find_measures
from retrieval.catalogue.model import FIELDS, KINDS, PROGRAM_NAME_RE, Catalogue, name_key
from retrieval.corpus import corpus_files
from retrieval.glossary import Glossary
from retrieval.loaders import LoadError, load
from retrieval.text import nfkc, squash
from retrieval.types import Document


def stands_at(value: str, lines: Sequence[str], start: int, end: int) -> bool:
    """Is `value` the text of lines start..end (1-based), once line breaks are joined and spaces ignored?"""
    if not 1 <= start <= end <= len(lines):
        return False
    needle = squash(value)
    return bool(needle) and needle in squash("".join(lines[start - 1:end]))


def kind_stands_at(value: str, lines: Sequence[str], start: int, end: int) -> bool:
    """A kind is a classification: valid when it is one of KINDS and its lines hold a word behind it."""
    if value not in KINDS or not 1 <= start <= end <= len(lines):
        return False
    text = squash("".join(lines[start - 1:end]))
    return any(word in text for word in KINDS[value])


@dataclass
class Violation:
    program: str
    field: str
    ref: str
    problem: str

    def __str__(self) -> str:
        return f"{self.program} / {self.field}: {self.problem} ({self.ref})"


@dataclass
class Coverage:
    """Catalogue entries against the program headings found in the documents."""

    entries: int
    headings: list[str]  # distinct program names the documents head or name (see `program_mentions`)
    missing: list[str]
    filled: dict[str, int]  # field -> entries that have it
    sheets: Coverage | None = None  # the same shares over entries of budget PR sheets only

    @property
    def covered(self) -> int:
        return len(self.headings) - len(self.missing)

    def share(self, name: str) -> float:
        return self.filled.get(name, 0) / self.entries if self.entries else 0.0

    def summary(self) -> str:
        pct = 100 * self.covered / len(self.headings) if self.headings else 100.0
        fills = ", ".join(f"{k} {self.filled.get(k, 0)}/{self.entries} ({100 * self.share(k):.0f}%)"
                          for k in ("budget", "target", "rate", "cap", "purpose", "support", "outcomes"))
        text = (f"coverage: {self.covered}/{len(self.headings)} program headings in the documents are in the "
                f"catalogue ({pct:.0f}%); {self.entries} entries; fields filled: {fills}")
        if self.sheets is not None:
            s = self.sheets
            text += (f"\n  of which {s.entries} budget-sheet entries (a 予算額 line): "
                     + ", ".join(f"{k} {s.filled.get(k, 0)}/{s.entries} ({100 * s.share(k):.0f}%)"
                                 for k in ("budget", "target", "rate", "cap", "purpose", "support", "outcomes")))
        return text


@dataclass
class CheckReport:
    violations: list[Violation]
    coverage: Coverage

    @property
    def ok(self) -> bool:
        return not self.violations and not self.coverage.missing


def load_documents(corpus_dir: Path, on_error=None) -> dict[str, Document]:
    """The corpus documents by file name (a broken file is reported through on_error and skipped)."""
    docs: dict[str, Document] = {}
    for path in corpus_files(corpus_dir):
        try:
            docs[path.name] = load(path)
        except LoadError as exc:
            if on_error:
                on_error(str(exc))
    return docs


def check(catalogue: Catalogue, corpus_dir: Path, docs: dict[str, Document] | None = None) -> CheckReport:
    """Every cited value must stand at its lines; every program heading of the documents must be covered."""
    docs = docs if docs is not None else load_documents(corpus_dir)
    violations: list[Violation] = []
    seen: set[str] = set()
    for p in catalogue.programs:
        if p.id in seen:
            violations.append(Violation(p.name, "id", p.heading.ref, f"duplicate id {p.id!r}"))
        seen.add(p.id)
        for name, c in [("heading", p.heading), *((k, p.fields[k]) for k in p.fields)]:
            doc = docs.get(c.source)
            if doc is None:
                violations.append(Violation(p.name, name, c.ref, f"source {c.source} is not a corpus document"))
                continue
            ok = (kind_stands_at if name == "kind" else stands_at)(c.value, doc.lines, c.start_line, c.end_line)
            if not ok:
                where = "out of range" if c.end_line > len(doc.lines) or c.start_line > c.end_line else "not found"
                violations.append(Violation(p.name, name, c.ref, f"value {c.value[:40]!r} {where} at its lines"))
    return CheckReport(violations, coverage(catalogue, docs, Glossary.load(corpus_dir / "glossary.yaml")))


def coverage(catalogue: Catalogue, docs: dict[str, Document], glossary: Glossary) -> Coverage:
    headings = program_mentions(docs, glossary)
    known = {name_key(n) for p in catalogue.programs for n in p.names()}
    # A heading is covered by an entry of that name or nickname, or by one whose name extends it
    # (「…認証制度の実施委託費」 covers 「…認証制度」).
    missing = [h for h in headings if name_key(h) not in known
               and not any(k.startswith(name_key(h)) for k in known)]
    filled = {k: sum(1 for p in catalogue.programs if k in p.fields) for k in FIELDS}
    sheet_entries = [p for p in catalogue.programs if "budget" in p.fields and BUDGET_RE.match(p.fields["budget"].value)]
    sheets = Coverage(len(sheet_entries), [], [], {k: sum(1 for p in sheet_entries if k in p.fields) for k in FIELDS})
    return Coverage(len(catalogue.programs), headings, missing, filled, sheets)


def program_mentions(docs: dict[str, Document], glossary: Glossary) -> list[str]:
    """Program names the documents head or name, counted once each (NFKC, spaces ignored):

    1. the title of every sheet with a budget line (令和…予算額 / 国庫債務負担行為…), as `find_sheets` finds it;
    2. every program heading inside a sheet (「（１）…事業（…補助金）」, 「①…事業（…）」);
    0. the call a 公募要領 announces (program and 枠), and nothing else of that document;
    3. in a document without budget sheets (the white paper), every numbered measure heading that names a
       program: a budget in parentheses (「（42億円）」) or a name ending in 事業/制度/税制/補助金/助成金/… ;
    4. every glossary program whose official name ends in 事業/補助金/制度/助成金/税制 and appears in a document.
    """
    names: dict[str, str] = {}
    for doc in docs.values():
        calls = koubo.programs(doc, glossary)
        if calls:  # a 公募要領 is about the call it announces; its numbered items are rules, not programs
            for call in calls:
                names.setdefault(name_key(call.name), call.name)
            continue
        sheets = find_sheets(doc, glossary)
        for sheet in sheets:
            names.setdefault(name_key(sheet.name), sheet.name)
        for sub in find_subprograms(doc, glossary):
            names.setdefault(name_key(sub.name), sub.name)
        if not sheets:
            for m in find_measures(doc, glossary):
                names.setdefault(name_key(m.name), m.name)
    joined = {src: squash("".join(doc.lines)) for src, doc in docs.items()}
    for official in glossary.programs:
        if PROGRAM_NAME_RE.search(nfkc(official)) and any(
                squash(official) in text for text in joined.values()):
            names.setdefault(name_key(official), official)
    return list(names.values())
