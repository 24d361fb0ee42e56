"""The document layouts the catalogue builder reads, in the order `build.extract` tries them.

A layout is a module with a `name` and `programs(doc, glossary, title) -> list[Program]` (the `Layout`
protocol); a new layout is one new file here and one line in LAYOUTS. A layout marked `exclusive`
(the 公募要領 layout) that finds entries in a document is the only one used on it. Otherwise `extract` runs
the first non-exclusive layout
(budget PR sheets) on every document; when it finds no program of the document's own (only programs
described inside a sheet, or none), it runs the others in order, listing the second one's entries first,
then the first one's, then the rest.
"""

from __future__ import annotations

from typing import Protocol

from retrieval.catalogue.layouts import budget_sheet, jgrants_call, koubo, program_document, white_paper
from retrieval.catalogue.model import Program
from retrieval.glossary import Glossary
from retrieval.types import Document


class Layout(Protocol):
    """One way the documents describe programs."""

    name: str

    def programs(self, doc: Document, glossary: Glossary, title: str) -> list[Program]:
        """The entries this layout finds in `doc` (`title`: its manifest title, "" when it has none)."""
        ...


LAYOUTS: tuple[Layout, ...] = (jgrants_call, koubo, budget_sheet, program_document, white_paper)
