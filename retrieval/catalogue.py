"""The program catalogue: every support program the documents describe, each field quoted and cited.

Passages answer one fact at a time; a catalogue lets the advisor list, filter and compare programs
exactly. Each field holds the document's own words (a verbatim substring of the cited lines once PDF
line breaks are joined and white space is ignored) with its file and line range, so `check` can prove
every value still stands where it says. `build` drafts entries with rules over the shared layouts
(budget PR sheets: title, 予算額 line, 事業目的, 事業概要, 事業スキーム, 成果目標; 「補助上限：…、補助率：…」
lines), and merges them into the committed file without touching entries a person has reviewed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from retrieval.corpus import Manifest, corpus_files
from retrieval.glossary import Glossary
from retrieval.loaders import LoadError, load
from retrieval.text import fold_radicals, nfkc, squash
from retrieval.types import Document

CATALOGUE = "programs.yaml"
FIELDS: tuple[str, ...] = ("ministry", "division", "kind", "budget", "purpose", "target", "support", "cap",
                           "rate", "period", "outcomes", "contact")
FIELD_LABELS: dict[str, str] = {
    "ministry": "府省庁", "division": "担当課", "kind": "種別", "budget": "予算額", "purpose": "事業目的",
    "target": "対象者", "support": "支援内容", "cap": "補助上限", "rate": "補助率", "period": "事業期間",
    "outcomes": "成果目標", "contact": "問い合わせ先",
}
# kind is a classification: its value is one of these, and its cited lines hold one of the words behind it.
KINDS: dict[str, tuple[str, ...]] = {
    "基金": ("基金",), "税制": ("税制",), "融資": ("融資", "貸付", "出資", "資金繰り"),
    "補助": ("補助",), "委託": ("委託",), "その他": ("交付金", "給付金", "助成金", "交付"),
}


class CatalogueError(ValueError):
    """A catalogue file that cannot be read or does not have the catalogue's shape; the message says where."""


class Cited(BaseModel):
    """A value as the document writes it, and the lines (1-based, inclusive) where it stands."""

    value: str
    source: str
    start_line: int = Field(ge=1)
    end_line: int = Field(ge=1)

    @property
    def ref(self) -> str:
        return f"{self.source}:{self.start_line}-{self.end_line}"


class Program(BaseModel):
    """One support program, 事業 or 制度 with its cited facts.

    `id` is stable across builds (name + budget line label, or name + parent for a program described
    inside another's sheet), so a rebuild can tell new entries from ones already reviewed.
    """

    id: str
    name: str
    origin: Literal["extracted", "reviewed"] = "extracted"
    parent: str | None = None
    nicknames: list[str] = Field(default_factory=list)
    heading: Cited
    fields: dict[str, Cited] = Field(default_factory=dict)

    @property
    def reviewed(self) -> bool:
        return self.origin == "reviewed"

    def public(self) -> dict:
        """The `advisor programs --json` shape: name, nicknames, fields (only those the documents give)."""
        return {
            "name": self.name, "nicknames": list(self.nicknames),
            "fields": {k: self.fields[k].model_dump() for k in FIELDS if k in self.fields},
        }

    def names(self) -> list[str]:
        return [self.name, *self.nicknames]

    def matches(self, text: str) -> bool:
        """Does `text` (NFKC, spaces ignored) name this program exactly, by official name or nickname?"""
        key = _name_key(text)
        return any(key == _name_key(n) for n in self.names())


@dataclass
class Catalogue:
    programs: list[Program] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        """Read programs.yaml; a missing file is an empty catalogue, a malformed one a CatalogueError."""
        if not path.exists():
            return cls()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise CatalogueError(f"{path.name}: not valid YAML ({exc})") from exc
        rows = data.get("programs") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise CatalogueError(f"{path.name}: want a mapping with a `programs` list")
        programs = []
        for i, row in enumerate(rows):
            try:
                programs.append(_program_from_yaml(row))
            except (ValidationError, TypeError, ValueError, KeyError) as exc:
                raise CatalogueError(f"{path.name}: programs[{i}]: {exc}") from exc
        return cls(programs)

    def save(self, path: Path) -> None:
        """Write a stable, human-readable YAML (field order fixed, Japanese as is, one program per block)."""
        header = ("# The program catalogue: one entry per support program the documents in corpus/ describe.\n"
                  "# Each field is the document's own text at `lines` of `source`. Drafted by\n"
                  "# `advisor catalogue build`; entries with `origin: reviewed` were checked by a person and are\n"
                  "# never overwritten by a rebuild. `advisor catalogue check` verifies every value.\n")
        body = yaml.dump({"programs": [_program_to_yaml(p) for p in self.programs]}, Dumper=_Dumper,
                         allow_unicode=True, sort_keys=False, width=1000)
        path.write_text(header + body, encoding="utf-8")

    def by_id(self) -> dict[str, Program]:
        return {p.id: p for p in self.programs}

    def find(self, name: str) -> list[Program]:
        """Programs named `name` (official name or nickname, NFKC); else those whose names contain it."""
        exact = [p for p in self.programs if p.matches(name)]
        if exact:
            return exact
        key = _name_key(name)
        return [p for p in self.programs if key and any(key in _name_key(n) for n in p.names())]


# --- YAML form -----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _flow_list(dumper: yaml.SafeDumper, data: _FlowList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


class _FlowList(list):
    pass


_Dumper.add_representer(_FlowList, _flow_list)


def _cited_to_yaml(c: Cited) -> dict:
    return {"value": c.value, "source": c.source, "lines": f"{c.start_line}-{c.end_line}"}


def _cited_from_yaml(d: dict) -> Cited:
    start, _, end = str(d["lines"]).partition("-")
    return Cited(value=str(d["value"]), source=str(d["source"]), start_line=int(start), end_line=int(end or start))


def _program_to_yaml(p: Program) -> dict:
    row: dict = {"id": p.id, "name": p.name, "origin": p.origin}
    if p.parent:
        row["parent"] = p.parent
    row["nicknames"] = _FlowList(p.nicknames)
    row["heading"] = _cited_to_yaml(p.heading)
    row["fields"] = {k: _cited_to_yaml(p.fields[k]) for k in FIELDS if k in p.fields}
    return row


def _program_from_yaml(row: dict) -> Program:
    unknown = set(row.get("fields") or {}) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)}; allowed: {', '.join(FIELDS)}")
    return Program(
        id=str(row["id"]), name=str(row["name"]), origin=row.get("origin", "extracted"), parent=row.get("parent"),
        nicknames=[str(n) for n in row.get("nicknames") or []], heading=_cited_from_yaml(row["heading"]),
        fields={k: _cited_from_yaml(v) for k, v in (row.get("fields") or {}).items()},
    )


# --- checking --------------------------------------------------------------------------------------


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
    known = {_name_key(n) for p in catalogue.programs for n in p.names()}
    # A heading is covered by an entry of that name or nickname, or by one whose name extends it
    # (「…認証制度の実施委託費」 covers 「…認証制度」).
    missing = [h for h in headings if _name_key(h) not in known
               and not any(k.startswith(_name_key(h)) for k in known)]
    filled = {k: sum(1 for p in catalogue.programs if k in p.fields) for k in FIELDS}
    sheet_entries = [p for p in catalogue.programs if "budget" in p.fields and _BUDGET_RE.match(p.fields["budget"].value)]
    sheets = Coverage(len(sheet_entries), [], [], {k: sum(1 for p in sheet_entries if k in p.fields) for k in FIELDS})
    return Coverage(len(catalogue.programs), headings, missing, filled, sheets)


def program_mentions(docs: dict[str, Document], glossary: Glossary) -> list[str]:
    """Program names the documents head or name, counted once each (NFKC, spaces ignored):

    1. the title of every sheet with a budget line (令和…予算額 / 国庫債務負担行為…), as `find_sheets` finds it;
    2. every program heading inside a sheet (「（１）…事業（…補助金）」, 「①…事業（…）」);
    3. in a document without budget sheets (the white paper), every numbered measure heading that names a
       program: a budget in parentheses (「（42億円）」) or a name ending in 事業/制度/税制/補助金/助成金/… ;
    4. every glossary program whose official name ends in 事業/補助金/制度/助成金/税制 and appears in a document.
    """
    names: dict[str, str] = {}
    for doc in docs.values():
        sheets = find_sheets(doc, glossary)
        for sheet in sheets:
            names.setdefault(_name_key(sheet.name), sheet.name)
        for sub in find_subprograms(doc, glossary):
            names.setdefault(_name_key(sub.name), sub.name)
        if not sheets:
            for m in find_measures(doc, glossary):
                names.setdefault(_name_key(m.name), m.name)
    joined = {src: squash("".join(doc.lines)) for src, doc in docs.items()}
    for official in glossary.programs:
        if re.search(r"(事業|補助金|制度|助成金|税制)$", nfkc(official)) and any(
                squash(official) in text for text in joined.values()):
            names.setdefault(_name_key(official), official)
    return list(names.values())


# --- building --------------------------------------------------------------------------------------


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

    Three kinds of entry: one per budget sheet (and per program described inside a sheet); one for a
    document about a single program (its manifest title names it, e.g. the サポイン evaluation); and, for
    every other glossary program a document names, an entry citing where it is named, so nothing the
    documents mention is silently absent.
    """
    titles = titles or {}
    out: dict[str, Program] = {}
    for source in sorted(docs):
        programs = extract_document(docs[source], glossary)
        if not any(p.parent is None for p in programs):
            if doc_program := _document_program(docs[source], glossary, titles.get(source, "")):
                programs.insert(0, doc_program)
            programs.extend(_measures(docs[source], glossary))
        for p in programs:
            out.setdefault(p.id, p)
    known = {_name_key(n) for p in out.values() for n in p.names()}
    for source in sorted(docs):
        for p in _mentions(docs[source], glossary, known):
            out.setdefault(p.id, p)
            known.update(_name_key(n) for n in p.names())
    return list(out.values())


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
    blocks = [n for n, ln in enumerate(lines, 1) if _squash_line(ln) == "対象事業"]
    if blocks:  # the newest scheme block (the documents list the current rules last)
        start = blocks[-1]
        fields.update(_cap_rate_period(lines, start, min(len(lines), start + 20), source))
        body_lines = [n for n in range(start + 1, min(len(lines), start + 6) + 1) if lines[n - 1].strip()][:2]
        if body_lines:
            fields["support"] = Cited(value=_joined(lines, body_lines[0], body_lines[-1]), source=source,
                                      start_line=body_lines[0], end_line=body_lines[-1])
    for n, ln in enumerate(lines, 1):
        m = re.match(r"^\s*目的\s*[：:︓]\s*(\S.*)$", nfkc(ln))
        if m:
            last = n
            while last < len(lines) and not _joined(lines, n, last).endswith("。") and lines[last].strip():
                last += 1
            text = _joined(lines, n, last)
            fields["purpose"] = Cited(value=text[text.find("目的") + 3:].lstrip(), source=source,
                                      start_line=n, end_line=last)
            break
    for n, ln in enumerate(lines, 1):
        if m := re.match(r"^\s*実施形態\s*(\S.*)$", ln):
            if "補助金" in m.group(1):
                fields["kind"] = Cited(value="補助", source=source, start_line=n, end_line=n)
            break
    return Program(id=f"{name}｜{source}", name=name, nicknames=_nicknames(name, None, glossary),
                   heading=Cited(value=name, source=source, start_line=at, end_line=at),
                   fields={k: fields[k] for k in FIELDS if k in fields})


_MEASURE_RE = re.compile(r"^\s*(?:[（(][0-9０-９]{1,2}[)）]|[①-⑳])")
_MEASURE_SUFFIX_RE = re.compile(r"(事業|事業費|制度|税制|補助金|助成金|給付金|交付金|プログラム|プロジェクト|基金|融資|貸付|"
                                r"資金|支援センター|ハイスクール)$")
_MONEY_RE = re.compile(r"円|内数|財政投融資|政策金融|予算")


@dataclass
class Measure:
    """A numbered measure heading of a white paper: 「⑫環境調和型プロセス技術の開発事業（42億円）」."""

    name: str
    nickname: str | None
    budget: str | None  # the parenthesised amount as written (「131億 20百万円の内数」)
    ministries: str | None  # 「＜経産省、文科省＞」 without the brackets
    start: int
    end: int
    text: str  # the heading lines joined (the document's text)


def find_measures(doc: Document, glossary: Glossary) -> list[Measure]:
    """Numbered headings that name a program (a budget in parentheses, or a program-like name); a
    heading that only repeats another (「再掲」) or groups the items under it is not one."""
    lines = doc.lines
    out: list[Measure] = []
    for n, line in enumerate(lines, 1):
        if not _MEASURE_RE.match(line):
            continue
        text, last = line.strip(), n
        for k in range(n + 1, min(len(lines), n + 3) + 1):
            nxt = lines[k - 1].strip()
            if not nxt or _MEASURE_RE.match(lines[k - 1]):  # a blank line, or the first item under a group
                break
            open_parens = len(re.findall(r"[（(＜<]", text)) - len(re.findall(r"[）)＞>]", text))
            if open_parens > 0 or len(nxt) <= 40 and not text.endswith(("）", ")", "＞")) and (
                    re.search(r"[）)＞>]$", nxt) or re.match(r"^[（(]", nxt)):
                text, last = text + nxt, k
            else:
                break
        body = nfkc(_MEASURE_RE.sub("", text, count=1)).replace("\ufffd", "").strip()
        body = re.sub(r"\s+", "", body) if not re.search(r"[A-Za-z] [A-Za-z]", body) else body
        ministries = None
        if m := re.search(r"<([^<>]+)>$", body):
            ministries, body = m.group(1), body[:m.start()].rstrip()
        budget = None
        groups = list(re.finditer(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)", body))
        if groups and groups[-1].end() == len(body) and _MONEY_RE.search(groups[-1].group(1)):
            budget, body = groups[-1].group(1), body[:groups[-1].start()].rstrip()
        if budget and "再掲" in budget or "再掲" in body:
            continue
        name, nickname = _split_name(body, glossary)
        if not re.search(r"[ぁ-んァ-ヶ一-龥A-Za-z]{3}", name) or len(name) > 60:
            continue
        if not (budget or _MEASURE_SUFFIX_RE.search(name)):
            continue
        out.append(Measure(name, nickname, budget, ministries, n, last, _joined(lines, n, last)))
    return out


def _measures(doc: Document, glossary: Glossary) -> list[Program]:
    """One entry per white-paper measure heading: name, budget and ministries as written, and the first
    sentence of the text under it (what was done) as its support."""
    lines, source = doc.lines, doc.source
    out = []
    for m in find_measures(doc, glossary):
        fields: dict[str, Cited] = {}
        heading_lines = [lines[k - 1] for k in range(m.start, m.end + 1)]
        if m.budget and _raw_in(m.budget, heading_lines):
            fields["budget"] = Cited(value=_raw_in(m.budget, heading_lines), source=source, start_line=m.start,
                                     end_line=m.end)
        if m.ministries and _raw_in(m.ministries, heading_lines):
            fields["ministry"] = Cited(value=_raw_in(m.ministries, heading_lines), source=source,
                                       start_line=m.start, end_line=m.end)
        for kind, pattern in (("税制", r"税制"), ("補助", r"補助金$|補助事業$"), ("委託", r"委託費$"), ("基金", r"基金$"),
                              ("融資", r"融資|貸付|資金"), ("その他", r"交付金$|助成金$|給付金$")):
            if re.search(pattern, m.name):
                fields["kind"] = Cited(value=kind, source=source, start_line=m.start, end_line=m.end)
                break
        first = next((k for k in range(m.end + 1, min(len(lines), m.end + 3) + 1) if lines[k - 1].strip()), None)
        if first is not None and not _MEASURE_RE.match(lines[first - 1]):
            last = first
            # the first sentence, across PDF breaks and a single blank line, never into the next heading
            while last < min(len(lines), first + 10) and not _joined(lines, first, last).endswith("。"):
                nxt = last + 1 if lines[last].strip() else last + 2
                if nxt > len(lines) or not lines[nxt - 1].strip() or _MEASURE_RE.match(lines[nxt - 1]):
                    break
                last = nxt
            text = _joined(lines, first, last)
            if "。" in text:
                text = text[:text.index("。") + 1]
                fields["support"] = Cited(value=text.strip(), source=source, start_line=first, end_line=last)
                for k in range(first, last + 1):  # 「…を対象に」 in that sentence names who it is for
                    t = _TARGET_SENTENCE_RE.search(lines[k - 1])
                    phrase = re.split(r"[、。]", t.group(1))[-1].strip().lstrip("のをにはがと") if t else ""
                    if 3 <= len(phrase) <= 60 and not re.search(r"庁|局|省", phrase):
                        fields["target"] = Cited(value=phrase, source=source, start_line=k, end_line=k)
                        break
        out.append(Program(id=f"{m.name}｜{source}", name=m.name, nicknames=_nicknames(m.name, m.nickname, glossary),
                           heading=Cited(value=m.text, source=source, start_line=m.start, end_line=m.end),
                           fields={k: fields[k] for k in FIELDS if k in fields}))
    return out


def _raw_in(normalised: str, raw_lines: Sequence[str]) -> str | None:
    """The spelling of `normalised` (found in the NFKC, space-less heading) within the raw heading lines."""
    joined = "".join(ln.strip() for ln in raw_lines)
    target = squash(normalised)
    for i in range(len(joined)):
        if not squash(joined[i]):
            continue
        acc = ""
        for j in range(i, len(joined)):
            acc += joined[j]
            sq = squash(acc)
            if sq == target:
                return acc.strip()
            if not target.startswith(sq):
                break
    return None


def _mentions(doc: Document, glossary: Glossary, known: set[str]) -> list[Program]:
    """Glossary programs (事業/補助金/制度/助成金/税制) a document names that no other entry covers."""
    out = []
    for official, _ in sorted(glossary.programs.items()):
        key = _name_key(official)
        if not re.search(r"(事業|補助金|制度|助成金|税制)$", nfkc(official)) or key in known or any(
                k.startswith(key) for k in known):
            continue
        for n in range(1, len(doc.lines) + 1):
            end = min(len(doc.lines), n + 1)
            if key in _name_key(doc.lines[n - 1]):
                end = n
            elif not (key in _name_key(_joined(doc.lines, n, end)) and key not in _name_key(doc.lines[end - 1])):
                continue
            kind = "補助" if official.endswith("補助金") else None
            fields = {"kind": Cited(value=kind, source=doc.source, start_line=n, end_line=end)} if kind else {}
            out.append(Program(id=f"{official}｜{doc.source}", name=official,
                               nicknames=_nicknames(official, None, glossary),
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


# --- the rule-based extractor ------------------------------------------------------------------------

_BUDGET_RE = re.compile(
    r"^\s*((?:(?:令和|平成)\s*[0-9０-９元]+\s*年度\S{0,12}?予算額|国庫債務負担行為\S{0,8}?額)\s*\S*?"
    r"[0-9０-９][0-9０-９,，.．]*\s*(?:兆[0-9０-９,，.．]*)?\s*億円(?:\s*[（(][^）)]*[）)])?(?:\*\*)?"
    r"(?:\s*[＜<（(※][^＞>）)]*[＞>）)]?[^局庁課室]*?)?)(?:\s+(.+))?$")
_BUDGET_LABEL_RE = re.compile(r"^(.*?(?:予算額|要求額|総額))")
_DIVISION_RE = re.compile(
    r"^(?:[（(][0-9０-９]+[)）])?\s*((?:中小企業庁|資源エネルギー庁|特許庁|[^\s。、]{1,12}局|商務・サービスG|"
    r"[^\s。、]{1,12}グループ)[^。]{0,40}?(?:課|室|部|局|庁|チーム|G|グループ))\s*$")
_DIVISION_TAIL_RE = re.compile(r"^(?:[（(][0-9０-９]+[)）])?\s*((?:中小企業庁|[^\s。、]{1,12}局)[^。、]{0,30}(?:課|室|部|局|庁))\s*$")
_SUBUNIT_RE = re.compile(r"^[^\s。、]{1,16}(?:課|室|チーム)$")
_MINISTRY_RE = re.compile(r"(中小企業庁|資源エネルギー庁|特許庁|経済産業省|文部科学省|厚生労働省|内閣府|国土交通省|環境省|総務省)")
_HEADERS = ("事業目的・概要", "事業目的、申請概要", "事業目的", "事業概要", "成果目標", "事業スキーム", "事業の内容",
            "条件（対象者", "背景・必要性", "事業イメージ", "補助対象要件", "各省の役割", "予算配分額", "補助対象経費",
            "主要申請要件", "補助金額・補助率", "予算額・補助額・補助率")
_RATE_RE = re.compile(r"補助率\s*[：:︓]?\s*(\S.*?)\s*$")
_CAP_RE = re.compile(r"(補助上限額?|補助額)\s*[：:︓]?\s*(.*?)\s*$")
_SCHEME_RATE_RE = re.compile(r"^[（(]\s*((?:原則)?\s*[0-9０-９]+\s*/\s*[0-9０-９]+[^）)]*|定額|[0-9０-９]+\s*/\s*[0-9０-９]+\s*等)\s*[）)]$")
_INLINE_SCHEME_RATE_RE = re.compile(r"(補助\s*[（(]\s*(?:原則)?\s*(?:[0-9０-９]+\s*/\s*[0-9０-９]+|定額)[^）)]*[）)])")
_PERIOD_RES = (
    re.compile(r"(?:補助)?事業期間\s*[：:︓]?\s*([^\s。）)、]+(?:\s*年[^\s。）)、]*)?)"),
    re.compile(r"((?:令和|平成)\s*[0-9０-９元]+\s*年度?から(?:令和|平成)?\s*[0-9０-９]+\s*年度?までの\s*[0-9０-９]+\s*年間)"),
    re.compile(r"(最大\s*[0-9０-９]+\s*年間)"),
)
_TARGET_SENTENCE_RE = re.compile(r"([^。]*?)(?:を対象と|を対象に)")
_TARGET_WORDS = ("中小企業者等", "中小企業・小規模事業者", "中堅・中小企業", "小規模事業者等", "小規模事業者", "中小企業等",
                 "中小企業者", "中小企業", "中堅企業等", "中堅企業", "スタートアップ", "民間企業等", "民間事業者等", "民間事業者",
                 "民間企業", "事業者等", "購入者等", "民間団体等", "大学等", "地方公共団体", "自治体", "組合等")
_SME_WORDS = 10  # the first words of _TARGET_WORDS name SMEs; they win over a generic 「を対象と」 phrase
_CONTACT_RE = re.compile(r"^\s*(0\d{1,3}-\d{3,4}-\d{4})\s*$")
_SUB_RE = re.compile(
    r"^\s*(?:[（(]\s*[0-9０-９一二三四五六七八九十]+\s*[)）]|[①-⑳]|[0-9]{1,2}(?=[^\d.,]))\s*"
    r"([^\s（()）、。：:]{4,60}?(?:事業|補助金|制度|助成金|プロジェクト))\s*[（(]([^（()）]{2,30})[)）]\s*$")
_NICKNAME_SUFFIX_RE = re.compile(r"(補助金|事業|プロジェクト|制度)$")
_PAGE_BREAK = 3  # blank lines between PDF pages in the converted text


@dataclass
class Sheet:
    """A budget PR sheet (or the same layout in another document): where it starts, ends and is titled."""

    name: str  # as written (a trailing nickname in parentheses removed)
    nickname: str | None
    title_start: int  # 1-based
    title_end: int
    budget_line: int
    start: int  # the page (or region) holding the sheet
    end: int


def _squash_line(s: str) -> str:
    return squash(s.replace("**", ""))


def _pages(lines: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) 1-based line ranges separated by runs of >= 3 empty lines (PDF page breaks).

    Lines of spaces are text-box leftovers inside a page, not breaks: only truly empty lines count.
    """
    pages, start, blanks = [], 1, 0
    for i, line in enumerate(lines, 1):
        if line == "":
            blanks += 1
            continue
        if line.strip() and blanks >= _PAGE_BREAK and i - blanks > start:
            pages.append((start, i - blanks - 1))
            start = i
        blanks = 0
    pages.append((start, len(lines)))
    return pages


def _split_name(title: str, glossary: Glossary) -> tuple[str, str | None]:
    """「…事業（Go-Tech事業）」 -> (…事業, Go-Tech事業) when the parenthesis is a nickname, not a qualifier."""
    m = re.match(r"^(.+?)\s*[（(]([^（()）]+)[)）]\s*$", title)
    if not m:
        return title, None
    base, inner = m.group(1), m.group(2)
    aliases = {_name_key(a) for a in _aliases(base, glossary)}
    if _name_key(inner) in aliases or (re.search(r"[A-Za-z]", inner) and _NICKNAME_SUFFIX_RE.search(inner)):
        return base, inner
    return title, None


def _aliases(name: str, glossary: Glossary) -> list[str]:
    key = _name_key(name)
    for official, aliases in glossary.programs.items():
        if _name_key(official) == key:
            return aliases
    return []


def find_sheets(doc: Document, glossary: Glossary) -> list[Sheet]:
    """Every budget line with the program title above it, and the page that holds both."""
    lines = doc.lines
    pages = _pages(lines)
    sheets = []
    for i, line in enumerate(lines, 1):
        if not _BUDGET_RE.match(line):
            continue
        # The title: the nearest non-blank line above; a 「（…の内数）」 line continues the one above it.
        j = i - 1
        while j >= 1 and not lines[j - 1].strip():
            j -= 1
        if j < 1:
            continue
        title_end = j
        if re.match(r"^\s*[（(].*(内数|）|\))\s*$", lines[j - 1]) and "内数" in lines[j - 1]:
            j -= 1
            while j >= 1 and not lines[j - 1].strip():
                j -= 1
            title_end = j
        title = lines[j - 1].strip()
        # A two-line title: 「…支援事業\n（工作機械・産業用ロボット）」.
        title_start = j
        if re.match(r"^[（(][^）)]+[)）]$", title) and j > 1 and lines[j - 2].strip():
            title_start = j - 1
            title = lines[j - 2].strip() + title
        if not _looks_like_title(title):
            continue
        name, nickname = _split_name(fold_radicals(re.sub(r"\s+", "", title)) if not re.search(r"[A-Za-z] [A-Za-z]", title)
                                     else fold_radicals(title), glossary)
        start, end = next(((s, e) for s, e in pages if s <= i <= e), (1, len(lines)))
        if end - start < 8:  # no page breaks around (markdown, white paper): the region runs to the next sheet
            start, end = title_start, len(lines)
        else:
            last = next((lines[k - 1] for k in range(end, start - 1, -1) if lines[k - 1].strip()), "")
            nxt = next(((s, e) for s, e in pages if s > end), None)
            if _squash_line(last).startswith(squash("条件（対象者")) and nxt:  # the scheme continues on the next page
                end = nxt[1]
            # Title first, then the sheet's sections (markdown-like documents): the sheet starts at its title.
            before = any(_squash_line(lines[k - 1]).startswith(("事業目的", "事業概要", "成果目標"))
                         for k in range(start, title_start))
            after = any(_is_header(lines[k - 1]) for k in range(i + 1, end + 1))
            if after and not before:
                start = title_start
        sheets.append(Sheet(name, nickname, title_start, title_end, i, start, end))
    # Without page breaks, a region ends where the next sheet's title begins.
    for a, b in zip(sheets, sheets[1:]):
        if a.end >= b.title_start and a.start < b.title_start and not (a.start <= b.budget_line <= a.end
                                                                      and _same_page(pages, a, b)):
            a.end = b.title_start - 1
    return sheets


def _same_page(pages: list[tuple[int, int]], a: Sheet, b: Sheet) -> bool:
    return any(s <= a.budget_line <= e and s <= b.budget_line <= e and e - s >= 8 for s, e in pages)


def _looks_like_title(title: str) -> bool:
    t = nfkc(title)
    return (4 <= len(t) <= 80 and "。" not in t and not _BUDGET_RE.match(t) and not t.startswith(("※", "・", "-"))
            and not re.fullmatch(r"[\d\s.,()（）億円万]+", t))


def _is_header(line: str) -> bool:
    s = _squash_line(line)
    return any(s.startswith(squash(h)) for h in _HEADERS)


def _joined(lines: Sequence[str], start: int, end: int) -> str:
    """Lines start..end joined as one text: PDF breaks inside a sentence vanish, list items keep a space."""
    out = ""
    for n in range(start, end + 1):
        s = lines[n - 1].strip()
        if not s:
            continue
        if out and (out[-1] in "。）)" and s[0] in "・○〇●◆■-•①②③④⑤⑥⑦⑧⑨※（(" or
                    out[-1].isascii() and out[-1].isalnum() and s[0].isascii() and s[0].isalnum()):
            out += " "
        out += s
    return out


def _section_body(lines: Sequence[str], start: int, end: int, header: str, skip: set[int],
                  max_chars: int = 220) -> Cited | None:
    """The text after a section header (事業目的, 事業概要, 成果目標) within start..end, up to a sentence end.

    Stops at the next header, a budget/title/division line, or a line of a scheme diagram (very short).
    Returns None when the section is absent or has no text.
    """
    h = None
    for n in range(start, end + 1):
        s = _squash_line(lines[n - 1])
        if s.startswith(squash(header)) and not s[len(squash(header)):].startswith(("・概要", "、申請概要", "及び")):
            rest = s[len(squash(header)):]
            nxt = next((lines[k - 1] for k in range(n + 1, end + 1) if lines[k - 1].strip()), "")
            if (not rest or _is_header(rest)) and _is_header(nxt):
                continue  # 「事業目的・概要 事業スキーム」 over 「事業目的」: the body is under the inner header
            h = n
            break
    if h is None:
        return None
    first = last = None
    rest = _squash_line(lines[h - 1])[len(squash(header)):]
    n = h if rest and not _is_header(rest) and len(rest) >= 6 else h + 1
    text = ""
    while n <= end:
        raw = lines[n - 1].strip()
        if n != h and (_is_header(raw) or n in skip or _BUDGET_RE.match(raw) or _looks_like_division(raw)):
            break
        if raw and n != h and len(nfkc(raw)) <= 3 and not raw.endswith("。") and not text.endswith(("、", "の", "を", "に")):
            break  # a scheme diagram box (国, 補助, 委託)
        if raw:
            if first is None:
                first = n
            last = n
            text = _joined(lines, first, last)
            if len(text) >= max_chars and text.endswith("。"):
                break
            if len(text) >= max_chars * 2:
                break
        n += 1
    if first is None or last is None or len(text) < 6:
        return None
    if "。" in text and not text.endswith("。"):
        # Scheme-diagram words after the last sentence are not part of the section: end at a sentence.
        keep = text[:text.rfind("。") + 1]
        while last > first and squash(keep) in squash(_joined(lines, first, last - 1)):
            last -= 1
        text = keep
    elif "。" not in text and not re.match(r"^[・○〇●◆■\-•①②③④⑤⑥⑦⑧⑨（(]", text):
        return None
    if n == h and first == h:  # the body began on the header line: drop the header word from the value
        text = _joined(lines, first, last)
        text = text[text.find(header[-2:]) + 2:].lstrip("・、 ") if header[-2:] in text else text
    return Cited(value=text, source="", start_line=first, end_line=last)


def _first_match(lines: Sequence[str], start: int, end: int, pattern: re.Pattern[str],
                 group: int = 1) -> tuple[str, int] | None:
    for n in range(start, end + 1):
        m = pattern.search(lines[n - 1])
        if m and m.group(group).strip():
            return m.group(group).strip(), n
    return None


def _clean_value(v: str) -> str:
    """Cut a label's value at the next label (「100万円、補助率：3/4）」 -> 「100万円」)."""
    v = re.split(r"[、,]\s*(?=補助率|補助上限|補助額|補助対象)", v)[0].split("\t")[0]
    if v.count("）") > v.count("（") and v.endswith("）"):
        v = v[:-1]
    if v.count(")") > v.count("(") and v.endswith(")"):
        v = v[:-1]
    return v.strip()


def _cap_rate_period(lines: Sequence[str], start: int, end: int, source: str) -> dict[str, Cited]:
    """補助上限 / 補助率 / 事業期間 lines (and the rate in a scheme diagram: 「補助\n（2/3）」)."""
    out: dict[str, Cited] = {}
    for n in range(start, end + 1):
        line = nfkc(lines[n - 1]).strip()
        if "rate" not in out and (m := _RATE_RE.search(line)) and re.search(r"\d|定額", m.group(1)):
            out["rate"] = Cited(value=_clean_value(lines[n - 1].strip()[_raw_offset(lines[n - 1], m.start(1)):]),
                                source=source, start_line=n, end_line=n)
        if "cap" not in out and (m := _CAP_RE.search(line)):
            value, last = m.group(2), n
            if not value and squash(line) in {"補助上限", "補助上限額"}:  # the amount is on the next lines
                value, last = "", n
                for k in range(n + 1, min(end, n + 3) + 1):
                    if lines[k - 1].strip():
                        last = k
                        if "円" in lines[k - 1]:
                            break
                value = _joined(lines, n + 1, last) if last > n else ""
                if value and "円" in value:
                    out["cap"] = Cited(value=value, source=source, start_line=n + 1, end_line=last)
            elif re.search(r"円", value):
                raw = lines[n - 1].strip()
                out["cap"] = Cited(value=_clean_value(raw[_raw_offset(lines[n - 1], m.start(2)):]), source=source,
                                   start_line=n, end_line=n)
        if "period" not in out:
            for pattern in _PERIOD_RES:
                if (m := pattern.search(line)) and re.search(r"\d|[０-９]", m.group(1)):
                    out["period"] = Cited(value=_raw_slice(lines[n - 1], m.group(1)), source=source, start_line=n,
                                          end_line=n)
                    break
    if "rate" not in out:
        # The scheme diagram: 「補助（2/3）」 or 「補助」 over 「（1/3以下）」. A fraction (what the recipient
        # gets) wins over 定額 (often the grant to the administering body).
        found: list[Cited] = []
        for n in range(start, end + 1):
            raw = lines[n - 1].strip()
            at = raw.find("補助")
            if at < 0:
                continue
            tail = raw[at:]
            if not re.match(r"^補助※?\s*(?:[（(]|$)", nfkc(tail)):
                continue
            # the parenthesis may close on this line, or on one of the next two non-blank lines
            text, last, k = tail, n, n + 1
            while not re.search(r"[）)]", text[text.find("補助") + 2:]) and k <= min(end, n + 4):
                nxt = lines[k - 1].strip()
                if nxt:
                    if not text.rstrip("※").endswith("補助") and not re.search(r"[（(]", text) or \
                            text.rstrip("※").endswith("補助") and not re.match(r"^[（(]", nfkc(nxt)):
                        break
                    text, last = text + nxt, k
                k += 1
            m = re.match(r"^(補助※?\s*[（(][^）)]*[）)])", nfkc(text))
            if not m or not re.search(r"\d\s*/\s*\d|定額", m.group(1)):
                continue
            found.append(Cited(value=_raw_slice(text, m.group(1)), source=source, start_line=n, end_line=last))
        if found:
            out["rate"] = next((c for c in found if re.search(r"\d", c.value)), found[0])
    return out


def _raw_offset(raw: str, nfkc_offset: int) -> int:
    """Map an offset in nfkc(raw).strip() back to raw.strip() (NFKC keeps lengths for these documents' text)."""
    stripped = raw.strip()
    return nfkc_offset if len(nfkc(stripped)) == len(stripped) else _scan_offset(stripped, nfkc_offset)


def _scan_offset(stripped: str, nfkc_offset: int) -> int:
    for i in range(len(stripped) + 1):
        if len(nfkc(stripped[:i])) >= nfkc_offset:
            return i
    return len(stripped)


def _target(lines: Sequence[str], start: int, end: int, source: str, skip: set[int]) -> Cited | None:
    """Who may apply: an SME word in the scheme diagram, else a 「…を対象と」 phrase, else any recipient word."""
    best = _recipient(lines, start, end, skip, _TARGET_WORDS[:_SME_WORDS])
    if best is not None:
        return Cited(value=best[0], source=source, start_line=best[1], end_line=best[2])
    for n in range(start, end + 1):
        m = _TARGET_SENTENCE_RE.search(lines[n - 1])
        if m and len(m.group(1).strip()) >= 4:
            phrase = re.split(r"[、。]\s*(?=[^、。]*を対象)", m.group(1))[-1].strip().lstrip("-・•● ")
            phrase = phrase.split("、", 1)[-1] if len(phrase) > 60 else phrase
            if 3 <= len(phrase) <= 80 and not phrase.startswith(("採択", "上記")) and not re.search(r"庁|局|省", phrase):
                return Cited(value=phrase, source=source, start_line=n, end_line=n)
    best = _recipient(lines, start, end, skip, _TARGET_WORDS)
    if best is None:
        return None
    return Cited(value=best[0], source=source, start_line=best[1], end_line=best[2])


def _recipient(lines: Sequence[str], start: int, end: int, skip: set[int],
               words: Sequence[str]) -> tuple[str, int, int] | None:
    """The most specific recipient word at the start of a short line (a scheme diagram box), not an office
    name; a box split over two short lines (「中小」「企業等」) is read as one."""
    best: tuple[int, str, int, int] | None = None
    for n in range(start, end + 1):
        if n in skip:
            continue
        line = nfkc(lines[n - 1]).strip()
        if not line or len(line) > 30 or "。" in line or re.search(r"庁|局|課|室", line) or _SUB_RE.match(line) \
                or re.search(r"(事業|補助金)[)）]?$", line):
            continue
        candidates = [(line, n)]
        nxt = nfkc(lines[n]).strip() if n < end else ""
        if len(line) <= 8 and nxt and len(nxt) <= 8:
            candidates.append((line + nxt, n + 1))
        for text, last in candidates:
            # A box label starts the line or one of its space-separated pieces (「国 民間企業等」).
            leads = [re.sub(r"^[・･•(（\[［①-⑳0-9]+", "", piece) for piece in text.split()]
            for rank, word in enumerate(words):
                if any(lead.startswith(word) for lead in leads) and (best is None or rank < best[0]):
                    best = (rank, word, n, last if not line.startswith(word) or len(line) < len(word) else n)
                    break
    return (best[1], best[2], best[3]) if best else None


def _kind(lines: Sequence[str], start: int, end: int, source: str, title: str, title_line: int) -> Cited | None:
    """補助/委託/融資/税制/基金/その他 from the title, else the words of the scheme diagram (short lines)."""
    for kind, words in KINDS.items():
        if kind in ("補助", "委託") and not re.search(r"(補助金|委託費)$", title):
            continue
        if any(w in squash(title) for w in words):
            return Cited(value=kind, source=source, start_line=title_line, end_line=title_line)
    short = [(n, squash(lines[n - 1])) for n in range(start, end + 1)
             if lines[n - 1].strip() and len(nfkc(lines[n - 1]).strip()) <= 24 and "。" not in lines[n - 1]
             and not _is_header(lines[n - 1])]
    for kind in ("基金", "税制", "補助", "委託", "融資", "その他"):
        for n, text in short:
            hit = any(w in text for w in KINDS[kind]) if kind != "融資" else re.fullmatch(r"(出資|融資|貸付)等?", text)
            if hit and not (kind == "基金" and "基盤整備" in text):
                return Cited(value=kind, source=source, start_line=n, end_line=n)
    return None


def _division(lines: Sequence[str], sheet: Sheet, source: str) -> Cited | None:
    """The responsible division: after the amount on the budget line, else a 「…局…課」 line of the sheet."""
    m = _BUDGET_RE.match(lines[sheet.budget_line - 1])
    if m and m.group(2) and _DIVISION_TAIL_RE.match(nfkc(m.group(2)).strip()):
        tail = m.group(2).strip()
        return Cited(value=tail, source=source, start_line=sheet.budget_line, end_line=sheet.budget_line)
    for n in range(sheet.start, sheet.end + 1):
        raw = lines[n - 1].strip()
        if raw and _DIVISION_RE.match(nfkc(raw)) and "。" not in raw:
            last = n
            k = n + 1
            while k <= sheet.end and k <= n + 6:  # 「中小企業庁経営支援部」 then 「経営支援課」 「技術・経営革新課」
                nxt = nfkc(lines[k - 1]).strip()
                if nxt and not (_SUBUNIT_RE.match(nxt) or _DIVISION_RE.match(nxt)):
                    break
                if nxt:
                    last = k
                k += 1
            return Cited(value=_joined_spaced(lines, n, last), source=source, start_line=n, end_line=last)
    return None


def _looks_like_division(raw: str) -> bool:
    """A line naming the responsible office (「製造産業局（1）(3)航空機武器宇宙産業課」), which ends a section body."""
    t = nfkc(raw).strip()
    return bool(_DIVISION_RE.match(t)) or (len(t) <= 40 and "。" not in t and re.search(r"\S局|庁", t) is not None
                                           and re.search(r"(課|室|局|部)", t) is not None and "、" not in t)


def _joined_spaced(lines: Sequence[str], start: int, end: int) -> str:
    return " ".join(lines[n - 1].strip() for n in range(start, end + 1) if lines[n - 1].strip())


def extract_document(doc: Document, glossary: Glossary) -> list[Program]:
    """Programs of one document: one per budget sheet, plus programs described inside a sheet."""
    lines, source = doc.lines, doc.source
    programs: list[Program] = []
    sheets = find_sheets(doc, glossary)
    for sheet in sheets:
        skip = {sheet.budget_line, *range(sheet.title_start, sheet.title_end + 1)}
        fields: dict[str, Cited] = {}
        m = _BUDGET_RE.match(lines[sheet.budget_line - 1])
        budget = m.group(1).strip() if m else lines[sheet.budget_line - 1].strip()
        fields["budget"] = Cited(value=budget, source=source, start_line=sheet.budget_line,
                                 end_line=sheet.budget_line)
        if d := _division(lines, sheet, source):
            fields["division"] = d
            if mm := _MINISTRY_RE.search(nfkc(d.value)):
                fields["ministry"] = Cited(value=mm.group(1), source=source, start_line=d.start_line,
                                           end_line=d.start_line if mm.group(1) in nfkc(lines[d.start_line - 1])
                                           else d.end_line)
        title_text = _joined(lines, sheet.title_start, sheet.title_end)
        if k := _kind(lines, sheet.start, sheet.end, source, sheet.name, sheet.title_start):
            fields["kind"] = k
        for name, headers in (("purpose", ("事業目的・概要", "事業目的、申請概要", "事業目的")),
                              ("support", ("事業概要",)), ("outcomes", ("成果目標",))):
            for header in headers:
                body = _section_body(lines, sheet.start, sheet.end, header, skip)
                if body:
                    fields[name] = body.model_copy(update={"source": source, "value": body.value.lstrip("- ")})
                    break
        fields.update(_cap_rate_period(lines, sheet.start, sheet.end, source))
        if t := _target(lines, sheet.start, sheet.end, source, skip):
            fields["target"] = t
        contacts = [n for n in range(sheet.start, sheet.end + 1) if _CONTACT_RE.match(lines[n - 1])]
        if contacts:
            run = [contacts[0]] + [n for a, n in zip(contacts, contacts[1:]) if n - a <= 1]
            fields["contact"] = Cited(value=_joined_spaced(lines, run[0], run[-1]), source=source,
                                      start_line=run[0], end_line=run[-1])
        label = _BUDGET_LABEL_RE.match(nfkc(budget))
        pid = f"{sheet.name}｜{squash(label.group(1)) if label else squash(budget)}"
        nicknames = _nicknames(sheet.name, sheet.nickname, glossary)
        programs.append(Program(
            id=pid, name=sheet.name, nicknames=nicknames,
            heading=Cited(value=title_text, source=source, start_line=sheet.title_start, end_line=sheet.title_end),
            fields={k: fields[k] for k in FIELDS if k in fields},
        ))
    programs.extend(_subprograms(doc, glossary, sheets, programs))
    return programs


def _common_prefix(a: str, b: str) -> int:
    a, b = _name_key(a), _name_key(b)
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _nicknames(name: str, nickname: str | None, glossary: Glossary) -> list[str]:
    """The nickname written beside the name, its glossary aliases, and glossary names sharing an alias
    (ものづくり・商業・サービス生産性向上促進補助金 is another official spelling of ものづくり補助金)."""
    out: list[str] = []
    for n in [nickname, *_aliases(name, glossary)]:
        if n and _name_key(n) != _name_key(name) and n not in out:
            out.append(n)
    keys = {_name_key(n) for n in out}
    for official, aliases in glossary.programs.items():
        if _name_key(official) != _name_key(name) and official not in out and _common_prefix(official, name) >= 8 and any(
                _name_key(a) in keys for a in aliases if _name_key(a).endswith("補助金")):
            out.append(official)
    return out


@dataclass
class SubHeading:
    name: str
    nickname: str
    line: int


def find_subprograms(doc: Document, glossary: Glossary) -> list[SubHeading]:
    """「（１）ものづくり・商業・サービス生産性向上促進事業（ものづくり補助金）」: a program inside a sheet."""
    out = []
    for n, line in enumerate(doc.lines, 1):
        m = _SUB_RE.match(nfkc(line))
        if not m:
            continue
        name, inner = m.group(1), m.group(2)
        aliases = {_name_key(a) for a in _aliases(name, glossary)}
        if _name_key(inner) in aliases or _NICKNAME_SUFFIX_RE.search(inner):
            out.append(SubHeading(_raw_slice(line, name), _raw_slice(line, inner), n))
    return out


def _raw_slice(raw: str, normalised: str) -> str:
    """The raw spelling of a piece found in nfkc(raw) (kept verbatim for citations)."""
    stripped = raw.strip()
    for i in range(len(stripped)):
        for j in range(i + 1, len(stripped) + 1):
            if nfkc(stripped[i:j]) == normalised:
                return stripped[i:j]
    return normalised


def _subprograms(doc: Document, glossary: Glossary, sheets: list[Sheet], parents: list[Program]) -> list[Program]:
    lines, source = doc.lines, doc.source
    heads = find_subprograms(doc, glossary)
    out: list[Program] = []
    for idx, head in enumerate(heads):
        sheet_idx = next((i for i, s in enumerate(sheets) if s.start <= head.line <= s.end), None)
        parent = parents[sheet_idx] if sheet_idx is not None else None
        region_end = sheets[sheet_idx].end if sheet_idx is not None else min(len(lines), head.line + 12)
        nxt = next((h.line for h in heads[idx + 1:] if h.line > head.line), None)
        end = min(region_end, nxt - 1 if nxt else region_end, head.line + 12)
        fields: dict[str, Cited] = {}
        # Support: the first sentence after the heading (skipping a 「（補助上限：…）」 line).
        first = last = None
        for n in range(head.line + 1, end + 1):
            raw = lines[n - 1].strip()
            if not raw:
                if first is not None and _joined(lines, first, last).endswith("。"):
                    break
                continue
            if re.match(r"^[（(].*(補助|上限)", nfkc(raw)) or raw.startswith("※") or _is_header(raw):
                if first is None:
                    continue
                break
            first = first or n
            last = n
            if _joined(lines, first, last).endswith("。"):
                break
        if first is not None and last is not None:
            fields["support"] = Cited(value=_joined(lines, first, last).lstrip("- "), source=source,
                                      start_line=first, end_line=last)
        fields.update(_cap_rate_period(lines, head.line + 1, end, source))
        if sheet_idx is not None:
            sheet = sheets[sheet_idx]
            if o := _bracket_block(lines, sheet.start, sheet.end, head.nickname):
                fields["outcomes"] = o.model_copy(update={"source": source})
        kind = "補助" if re.search(r"補助金$", head.nickname) else None
        if kind:
            fields["kind"] = Cited(value=kind, source=source, start_line=head.line, end_line=head.line)
        name = head.name
        pid = f"{name}｜{parent.id if parent else source}"
        out.append(Program(
            id=pid, name=name, parent=parent.id if parent else None,
            nicknames=_nicknames(name, head.nickname, glossary),
            heading=Cited(value=lines[head.line - 1].strip(), source=source, start_line=head.line,
                          end_line=head.line),
            fields={k: fields[k] for k in FIELDS if k in fields},
        ))
    return out


def _bracket_block(lines: Sequence[str], start: int, end: int, nickname: str) -> Cited | None:
    """The lines under 「【ものづくり補助金】」 in a sheet's 成果目標, up to the next 【…】 or header."""
    key = squash(f"【{nickname}】")
    h = next((n for n in range(start, end + 1) if squash(lines[n - 1]) == key), None)
    if h is None:
        return None
    first = last = None
    for n in range(h + 1, end + 1):
        raw = lines[n - 1].strip()
        if raw.startswith("【") or _is_header(raw):
            break
        if raw:
            first = first or n
            last = n
    if first is None or last is None:
        return None
    return Cited(value=_joined(lines, first, last), source="", start_line=first, end_line=last)


def _name_key(name: str) -> str:
    return squash(name).lower()


def named_spans(text: str, catalogue: Catalogue) -> list[tuple[str, list[Program]]]:
    """Each program mention in `text` (official name or nickname, longest first, NFKC), in text order,
    with every entry that name may mean: one mention of サポイン事業 is one program, however many entries."""
    key = _name_key(text)
    spans: dict[tuple[int, int], tuple[str, list[Program]]] = {}
    names = sorted({_name_key(n) for p in catalogue.programs for n in p.names() if len(_name_key(n)) >= 3},
                   key=len, reverse=True)
    for k in names:
        pos = key.find(k)
        while pos >= 0:
            if not any(a < pos + len(k) and pos < b for a, b in spans):
                # 「…事業」 also means 「…事業費」 and 「…事業（令和6年能登半島地震）」 (a budget line or a qualifier)
                entries = [p for p in catalogue.programs if any(_name_key(n) == k for n in p.names())
                           or _name_key(p.name).startswith(k + "(") or _name_key(p.name) == k + "費"]
                spans[(pos, pos + len(k))] = (k, entries)
                break
            pos = key.find(k, pos + 1)
    return [spans[s] for s in sorted(spans)]


def programs_named(text: str, catalogue: Catalogue) -> list[Program]:
    """Programs whose official name or nickname occurs in `text`, in the order the text names them."""
    out: list[Program] = []
    for _, entries in named_spans(text, catalogue):
        out.extend(p for p in entries if p not in out)
    return out


def filter_programs(programs: Iterable[Program], kind: str | None = None, word: str | None = None) -> list[Program]:
    """Programs of `kind` whose target (or purpose/support) mentions `word` (NFKC, spaces ignored)."""
    if kind is not None and kind not in KINDS:
        raise CatalogueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    key = squash(word or "")
    out = []
    for p in programs:
        if kind and (p.fields.get("kind") is None or p.fields["kind"].value != kind):
            continue
        if key and not any(key in squash(p.fields[f].value) for f in ("target", "purpose", "support")
                           if f in p.fields) and key not in squash(p.name):
            continue
        out.append(p)
    return out


def iter_cited(p: Program) -> Iterable[tuple[str, Cited]]:
    yield "heading", p.heading
    yield from ((k, p.fields[k]) for k in FIELDS if k in p.fields)
