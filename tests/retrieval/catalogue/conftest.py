"""Golden tests of the catalogue's document layouts: each runs one layout on a real seed document of corpus/
and compares a few programs with expectations read off its output, so a regex edit shows its effect."""

import pytest

from retrieval.catalogue.model import FIELDS, Program
from retrieval.corpus import Manifest
from retrieval.glossary import Glossary
from retrieval.loaders import load
from tests.conftest import CORPUS


@pytest.fixture(scope="session")
def run_layout():
    """run_layout(layout, file, title=None): the layout's programs in that corpus document (title: the manifest's)."""
    glossary = Glossary.load(CORPUS / "glossary.yaml")
    titles = {f: e.title for f, e in Manifest.load(CORPUS).entries.items()}

    def run(layout, file: str, title: str | None = None) -> list[Program]:
        return layout.programs(load(CORPUS / file), glossary, titles.get(file, "") if title is None else title)

    return run


@pytest.fixture(scope="session")
def golden():
    """golden(programs, name, heading_lines): the entry so named whose heading starts there, in the expectation's
    shape: (name, heading lines, parent, nicknames, {field: (value, start_line, end_line)} for the fields asked)."""

    def view(programs: list[Program], name: str, heading: tuple[int, int], fields: list[str]) -> tuple:
        hits = [p for p in programs if p.name == name and p.heading.start_line == heading[0]]
        assert len(hits) == 1, f"{name} at line {heading[0]}: {len(hits)} entries"
        p = hits[0]
        assert set(fields) <= set(FIELDS)
        cited = {k: (p.fields[k].value, p.fields[k].start_line, p.fields[k].end_line) if k in p.fields else None
                 for k in fields}
        return p.name, (p.heading.start_line, p.heading.end_line), p.parent, p.nicknames, cited

    return view
