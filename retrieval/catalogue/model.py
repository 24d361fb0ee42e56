"""The catalogue's data: a program and its cited fields, the YAML file that holds them, and lookup by name.

Checking, building and the document layouts all read and write these types; nothing here knows how a
document is laid out.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from retrieval.text import dates_in, squash
from retrieval.yaml_loader import YAML_LOADER

CATALOGUE = "programs.yaml"
FIELDS: tuple[str, ...] = ("ministry", "division", "kind", "budget", "purpose", "target", "support", "cap",
                           "rate", "period", "deadline", "outcomes", "contact")
# A glossary entry named like a program of its own (not a 枠 or a nickname): the catalogue must hold it when a
# document names it (build) and is checked for it (check).
PROGRAM_NAME_RE = re.compile(r"(事業|補助金|制度|助成金|税制)$")

FIELD_LABELS: dict[str, str] = {
    "ministry": "府省庁", "division": "担当課", "kind": "種別", "budget": "予算額", "purpose": "事業目的",
    "target": "対象者", "support": "支援内容", "cap": "補助上限", "rate": "補助率", "period": "事業期間",
    "deadline": "申請締切", "outcomes": "成果目標", "contact": "問い合わせ先",
}
# The `fields` of `advisor programs --json` (the shape other tools read); the deadline travels beside them.
PUBLIC_FIELDS: tuple[str, ...] = tuple(f for f in FIELDS if f != "deadline")
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

    def public(self, today: datetime.date | None = None) -> dict:
        """The `advisor programs --json` shape: name, nicknames, fields (only those the documents give); with a
        deadline, also `deadline` (cited) and `status` (受付中/受付終了/公募予定 against `today`)."""
        out: dict = {
            "name": self.name, "nicknames": list(self.nicknames),
            "fields": {k: self.fields[k].model_dump() for k in PUBLIC_FIELDS if k in self.fields},
        }
        if "deadline" in self.fields:
            out["deadline"] = self.fields["deadline"].model_dump()
            out["status"] = self.status(today or datetime.date.today())
        return out

    def status(self, today: datetime.date) -> str | None:
        """受付中, 受付終了 or 公募予定 from the dates of the deadline field (None when it states no date, as when
        the schedule is published elsewhere): the last date passed means closed; a first date still to come of
        a span (「4月1日～5月12日」) means not open yet."""
        c = self.fields.get("deadline")
        return call_status(c.value, today) if c else None

    def names(self) -> list[str]:
        return [self.name, *self.nicknames]

    def matches(self, text: str) -> bool:
        """Does `text` (NFKC, spaces ignored) name this program exactly, by official name or nickname?"""
        key = name_key(text)
        return any(key == name_key(n) for n in self.names())


def call_status(deadline: str, today: datetime.date) -> str | None:
    """受付中, 受付終了 or 公募予定 of a deadline as written (「2026年12月1日 ～ 2027年1月29日」), by day."""
    dates = dates_in(deadline)
    if not dates:
        return None
    if today > max(dates):
        return "受付終了"
    if len(dates) > 1 and today < min(dates):
        return "公募予定"
    return "受付中"


@dataclass
class Catalogue:
    programs: list[Program] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        """Read programs.yaml; a missing file is an empty catalogue, a malformed one a CatalogueError."""
        if not path.exists():
            return cls()
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
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
        key = name_key(name)
        return [p for p in self.programs if key and any(key in name_key(n) for n in p.names())]


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


# --- names -----------------------------------------------------------------------------------------


def name_key(name: str) -> str:
    return squash(name).lower()


def named_spans(text: str, catalogue: Catalogue) -> list[tuple[str, list[Program]]]:
    """Each program mention in `text` (official name or nickname, longest first, NFKC), in text order,
    with every entry that name may mean: one mention of サポイン事業 is one program, however many entries."""
    key = name_key(text)
    spans: dict[tuple[int, int], tuple[str, list[Program]]] = {}
    names = sorted({name_key(n) for p in catalogue.programs for n in p.names() if len(name_key(n)) >= 3},
                   key=len, reverse=True)
    for k in names:
        pos = key.find(k)
        while pos >= 0:
            if not any(a < pos + len(k) and pos < b for a, b in spans):
                # 「…事業」 also means 「…事業費」 and 「…事業（令和6年能登半島地震）」 (a budget line or a qualifier)
                entries = [p for p in catalogue.programs if any(name_key(n) == k for n in p.names())
                           or name_key(p.name).startswith(k + "(") or name_key(p.name) == k + "費"]
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
