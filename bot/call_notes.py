"""Whether the call an answer quotes can be applied for today: 受付中, 受付終了 or 公募予定, with its deadline.

A passage answer quotes a 公募要領 or a jGrants record as the documents write it, which says nothing of
today's date: a deadline that has passed reads like an open call. For every call whose documents the
answer cites, the catalogue knows the deadline (cited at its own lines); this module turns it into one
line per call, with the call's jGrants page when it has one. The status is computed, the deadline is
quoted, so the line cites the deadline's lines like any other statement.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from retrieval.catalogue.model import Catalogue, Cited, Program, name_key
from retrieval.corpus import Manifest
from retrieval.jgrants.record import portal_link
from retrieval.loaders import LoadError, load

MAX_NOTES = 3  # an answer quoting many calls (a broad question) names the first few; the list view has them all


@dataclass(frozen=True)
class CallNote:
    program: str
    status: str  # 受付中 / 受付終了 / 公募予定
    deadline: Cited
    link: str | None  # the call's jGrants page, when the deadline comes from a jGrants record
    lines: tuple[str, ...]  # the cited lines' text, for the citation
    title: str  # the title of the deadline's document

    def text(self) -> str:
        link = f" jGrantsのページ: {self.link}" if self.link else ""
        return f"{self.program}：{self.status}（受付期間・締切: {self.deadline.value}）{link}"


class CallNotes:
    """The calls (catalogue entries with a deadline) behind each corpus file: those the file states, and the
    call a file belongs to by the manifest's program (a jGrants record's attached 公募要領)."""

    def __init__(self, catalogue: Catalogue, manifest: Manifest, corpus_dir: Path,
                 today: Callable[[], datetime.date]) -> None:
        self._today = today
        self._corpus_dir = corpus_dir
        self._manifest = manifest
        calls = [p for p in catalogue.programs if "deadline" in p.fields]
        by_name: dict[str, list[Program]] = {}
        for p in calls:
            by_name.setdefault(name_key(p.name), []).append(p)
        self._by_file: dict[str, list[Program]] = {}
        for p in calls:
            self._by_file.setdefault(p.heading.source, []).append(p)
        for file, entry in manifest.entries.items():
            for p in by_name.get(name_key(entry.program), []) if entry.program else []:
                if p not in self._by_file.setdefault(file, []):
                    self._by_file[file].append(p)

    def for_sources(self, sources: Iterable[str]) -> list[CallNote]:
        """One note per distinct call deadline behind the cited files, in citation order."""
        today = self._today()
        notes: list[CallNote] = []
        seen: set[str] = set()
        for source in dict.fromkeys(sources):
            for p in self._by_file.get(source, []):
                c = p.fields["deadline"]
                status = p.status(today)
                if status is None or c.ref in seen:
                    continue
                seen.add(c.ref)
                lines = self._lines(c.source)
                notes.append(CallNote(program=p.name, status=status, deadline=c, link=portal_link(lines),
                                      lines=tuple(lines[c.start_line - 1:c.end_line]),
                                      title=self._manifest.title(c.source) or c.source))
        return notes[:MAX_NOTES]

    def _lines(self, source: str) -> list[str]:
        path = self._corpus_dir / source
        try:
            return _read_lines(path, path.stat().st_mtime_ns)
        except OSError:
            return []


@lru_cache(maxsize=256)
def _read_lines(path: Path, version: int) -> list[str]:
    """A document's lines, read once per version of the file (a sync may rewrite it)."""
    try:
        return list(load(path).lines)
    except LoadError:
        return []
