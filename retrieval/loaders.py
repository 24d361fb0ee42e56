"""Turn corpus files (txt, md, pdf, html) into Documents made of lines.

Line numbers in citations are lines of what this module returns. For .txt and .md that is the
file itself; PDFs and HTML are converted to text once by `advisor add` (see `to_text`), so that
the corpus always holds a text file a person can open at the cited lines.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from retrieval.types import Document

TEXT_SUFFIXES = {".txt", ".md"}
CONVERTIBLE_SUFFIXES = {".pdf", ".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | CONVERTIBLE_SUFFIXES

_PAGE_NUMBER_RE = re.compile(r"^\s*[-‐－―]?\s*(\d{1,3}|[０-９]{1,3})\s*[-‐－―]?\s*$|^\s*-\s*\d+\s*-\s*$|^\s*\d+\s*/\s*\d+\s*$")


class LoadError(Exception):
    """A corpus file that cannot be read; the message names the file and says why."""


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def load(path: Path, title: str | None = None, source: str | None = None) -> Document:
    """Read one file into a Document, or raise LoadError naming it."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"{path.name}: unsupported file type {suffix or '(none)'} (use .txt, .md, .pdf or .html)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{path.name}: cannot read ({exc.strerror or exc})") from exc
    text = to_text(path, data)
    if not text.strip():
        raise LoadError(f"{path.name}: no text found (empty file, or a PDF without a text layer)")
    return Document(
        source=source or path.name,
        title=title or _guess_title(text, path),
        lines=tuple(text.splitlines()),
        content_hash=content_hash(data),
    )


def to_text(path: Path, data: bytes | None = None) -> str:
    """The text of a file: decoded text, a PDF's text layer with repaired lines, or HTML's visible text."""
    data = path.read_bytes() if data is None else data
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        for encoding in ("utf-8-sig", "cp932"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
        raise LoadError(f"{path.name}: not UTF-8 or Shift_JIS text")
    if suffix == ".pdf":
        return _pdf_text(path, data)
    if suffix in {".html", ".htm"}:
        return _html_text(data)
    raise LoadError(f"{path.name}: unsupported file type {suffix}")


def _pdf_text(path: Path, data: bytes) -> str:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"{path.name}: broken or unreadable PDF ({exc})") from exc
    except Exception as exc:  # pypdf raises assorted errors on damaged files
        raise LoadError(f"{path.name}: broken or unreadable PDF ({type(exc).__name__}: {exc})") from exc
    return "\n".join(repair_pdf_lines(pages))


def repair_pdf_lines(pages: list[str]) -> list[str]:
    """Drop page numbers and headers/footers repeated on most pages; keep everything else in order.

    Sentence-internal line breaks are joined later by chunking, which must keep line numbers.
    """
    page_lines = [[ln.rstrip() for ln in p.splitlines()] for p in pages]
    repeated: set[str] = set()
    if len(page_lines) >= 3:
        counts: dict[str, int] = {}
        for lines in page_lines:
            edge = {ln.strip() for ln in lines[:2] + lines[-2:] if ln.strip()}
            for ln in edge:
                counts[ln] = counts.get(ln, 0) + 1
        repeated = {ln for ln, n in counts.items() if n >= max(3, len(page_lines) * 0.6)}
    out: list[str] = []
    for lines in page_lines:
        for ln in lines:
            if ln.strip() in repeated or _PAGE_NUMBER_RE.match(ln):
                continue
            out.append(ln)
        out.append("")
    return out


def _html_text(data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript", "template"]):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    lines: list[str] = []
    for el in root.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "dt", "dd", "pre", "caption"]):
        if el.find_parent(["p", "li", "tr", "dd", "pre"]) is not None:
            continue  # text already taken with its block
        if el.name == "tr":
            text = " | ".join(c.get_text(" ", strip=True) for c in el.find_all(["th", "td"]))
        else:
            text = el.get_text(" ", strip=True)
        if text:
            lines.extend([text, ""])
    if not lines:
        lines = [ln.strip() for ln in root.get_text("\n").splitlines()]
    return "\n".join(lines)


def _guess_title(text: str, path: Path) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:80]
    return path.stem


def is_page_number(line: str) -> bool:
    return bool(_PAGE_NUMBER_RE.match(line))
