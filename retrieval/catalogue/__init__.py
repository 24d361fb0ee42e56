"""The program catalogue: every support program the documents describe, each field quoted and cited.

Passages answer one fact at a time; a catalogue lets the advisor list, filter and compare programs
exactly. Each field holds the document's own words (a verbatim substring of the cited lines once PDF
line breaks are joined and white space is ignored) with its file and line range, so `check` can prove
every value still stands where it says. `build` drafts entries with rules over the shared layouts
(budget PR sheets: title, 予算額 line, 事業目的, 事業概要, 事業スキーム, 成果目標; 「補助上限：…、補助率：…」
lines), and merges them into the committed file without touching entries a person has reviewed.

One job per module:

- `model`: the entries (Program, Cited), the catalogue file (programs.yaml) and finding programs by name;
- `check`: every value stands at its lines, every program the documents name has an entry;
- `build`: drafts from the layouts, merged into the committed file;
- `layouts`: one module per document layout (`budget_sheet`, `program_document`, `white_paper`), the
  registry `LAYOUTS` that `build` runs, and `layouts.text`, the line helpers they share.

Callers import from here; the names below are the package's public surface.
"""

from retrieval.catalogue.build import BuildReport, build, extract, merge
from retrieval.catalogue.check import (
    CheckReport,
    Coverage,
    Violation,
    check,
    coverage,
    kind_stands_at,
    load_documents,
    program_mentions,
    stands_at,
)
from retrieval.catalogue.layouts.budget_sheet import Sheet, SubHeading, extract_document, find_sheets, find_subprograms
from retrieval.catalogue.layouts.white_paper import Measure, find_measures
from retrieval.catalogue.model import (
    CATALOGUE,
    FIELD_LABELS,
    FIELDS,
    KINDS,
    Catalogue,
    CatalogueError,
    Cited,
    Program,
    filter_programs,
    iter_cited,
    named_spans,
    programs_named,
)

__all__ = [
    "CATALOGUE",
    "FIELDS",
    "FIELD_LABELS",
    "KINDS",
    "BuildReport",
    "Catalogue",
    "CatalogueError",
    "CheckReport",
    "Cited",
    "Coverage",
    "Measure",
    "Program",
    "Sheet",
    "SubHeading",
    "Violation",
    "build",
    "check",
    "coverage",
    "extract",
    "extract_document",
    "filter_programs",
    "find_measures",
    "find_sheets",
    "find_subprograms",
    "iter_cited",
    "kind_stands_at",
    "load_documents",
    "merge",
    "named_spans",
    "program_mentions",
    "programs_named",
    "stands_at",
]
