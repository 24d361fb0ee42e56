"""The corpus folder: which files it holds, their manifest entries, and the glossary."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from retrieval.identity import read_identity
from retrieval.loaders import CONVERTIBLE_SUFFIXES, TEXT_SUFFIXES, LoadError, to_text

MANIFEST = "manifest.yaml"
GLOSSARY = "glossary.yaml"


@dataclass(frozen=True)
class ManifestEntry:
    file: str
    title: str = ""  # a hand-written entry may leave it out: the loader's own title is used then
    publisher: str = ""
    fiscal_year: str = ""
    kind: str = ""
    original: str = ""  # the PDF/HTML a text file was converted from, if any
    # What the document is (retrieval/identity.py proposes these on `advisor add`; a person may correct them)
    program: str = ""
    track: str = ""  # 申請枠/類型
    round: str = ""  # 第N次 / 第N回
    date: str = ""  # ISO date of the version (cover or 改訂履歴)


@dataclass
class Manifest:
    entries: dict[str, ManifestEntry] = field(default_factory=dict)

    @classmethod
    def load(cls, corpus_dir: Path) -> Manifest:
        path = corpus_dir / MANIFEST
        if not path.exists():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries = {}
        for item in data.get("documents", []):
            if not isinstance(item, dict) or not item.get("file"):
                raise ValueError(f"{path}: every entry under 'documents' needs a 'file' (got {item!r})")
            entry = ManifestEntry(**{k: str(v) for k, v in item.items() if k in ManifestEntry.__dataclass_fields__})
            entries[entry.file] = entry
        return cls(entries)

    def entry(self, file: str) -> ManifestEntry | None:
        return self.entries.get(file)

    def title(self, file: str) -> str | None:
        entry = self.entries.get(file)
        return entry.title if entry else None

    def add(self, entry: ManifestEntry, corpus_dir: Path) -> None:
        """Record a document and write the manifest back, keeping every other entry."""
        self.entries[entry.file] = entry
        self.save(corpus_dir)

    def save(self, corpus_dir: Path) -> None:
        """Write the manifest whole (to a temporary file first, so a reader never sees half of it). Callers
        that record many documents (a sync) put them in memory and save once."""
        docs = [{k: v for k, v in vars(e).items() if v} for e in self.entries.values()]
        path = corpus_dir / MANIFEST
        tmp = path.with_name("." + MANIFEST + ".tmp")
        tmp.write_text(yaml.safe_dump({"documents": docs}, allow_unicode=True, sort_keys=False), encoding="utf-8")
        os.replace(tmp, path)


ORIGINALS = "originals"


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Indexable text documents in the corpus folder (manifest, glossary and originals/ excluded)."""
    if not corpus_dir.is_dir():
        return []
    return [
        p for p in sorted(corpus_dir.iterdir())
        if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES and not p.name.startswith(".")
    ]


def add_document(path: Path, corpus_dir: Path, title: str | None = None, publisher: str = "",
                 fiscal_year: str = "", kind: str = "", manifest: Manifest | None = None, **identity: str) -> Path:
    """Put a txt/md/pdf/html file into the corpus as text a person can open at the cited lines.

    PDFs and HTML are converted once (text layer, page numbers and repeated headers dropped); the
    original is kept under corpus/originals/. Raises LoadError, naming the file, when it has no text.
    With `manifest`, the entry is recorded there and the caller saves it (once for many documents);
    without, the manifest file is updated now.
    """
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES | CONVERTIBLE_SUFFIXES:
        raise LoadError(f"{path.name}: unsupported file type {suffix or '(none)'} (use .txt, .md, .pdf or .html)")
    text = to_text(path)
    if not text.strip():
        raise LoadError(f"{path.name}: no text found (empty file, or a PDF without a text layer)")
    corpus_dir.mkdir(parents=True, exist_ok=True)
    target = corpus_dir / (path.name if suffix in TEXT_SUFFIXES else f"{path.stem}.txt")
    original = ""
    if suffix in CONVERTIBLE_SUFFIXES:
        originals = corpus_dir / ORIGINALS
        originals.mkdir(exist_ok=True)
        if path.resolve() != (originals / path.name).resolve():
            shutil.copy2(path, originals / path.name)
        original = f"{ORIGINALS}/{path.name}"
    if path.resolve() != target.resolve():
        target.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    first_line = next((ln.strip() for ln in text.splitlines() if ln.strip()), path.stem)
    found = read_identity(text.splitlines())
    given = {k: v for k, v in identity.items() if v}
    year = re.search(r"(20\d\d)", found.program)
    entry = ManifestEntry(
        file=target.name, title=title or found.label() or first_line[:80], publisher=publisher,
        fiscal_year=fiscal_year or (f"{year.group(1)}年度" if year else ""), kind=kind or found.kind,
        original=original, program=given.get("program", found.program), track=given.get("track", found.track),
        round=given.get("round", found.round), date=given.get("date", found.date),
    )
    if manifest is not None:
        manifest.entries[entry.file] = entry
    else:
        Manifest.load(corpus_dir).add(entry, corpus_dir)
    return target


def remove_document(file: str, corpus_dir: Path, manifest: Manifest) -> None:
    """Take a document out of the corpus: its text, its kept original and its manifest entry (the caller
    saves the manifest). The next `advisor index` drops its passages."""
    entry = manifest.entries.pop(file, None)
    (corpus_dir / file).unlink(missing_ok=True)
    if entry is not None and entry.original:
        (corpus_dir / entry.original).unlink(missing_ok=True)


def convert_dropped_documents(corpus_dir: Path) -> tuple[list[Path], list[str]]:
    """Convert PDFs/HTML that were copied straight into corpus/ (the text lands beside, the original moves
    to originals/). Returns the new text files and one error line per file that could not be read."""
    converted: list[Path] = []
    errors: list[str] = []
    if not corpus_dir.is_dir():
        return converted, errors
    for path in sorted(corpus_dir.iterdir()):
        if not path.is_file() or path.suffix.lower() not in CONVERTIBLE_SUFFIXES:
            continue
        try:
            converted.append(add_document(path, corpus_dir))
        except LoadError as exc:
            errors.append(str(exc))
            continue
        path.unlink()
    return converted, errors
