"""List, filter and comparison questions answered from the program catalogue as a cited table.

「○○補助金と△△事業はどう違う？」 needs the same facts of several programs side by side;
passage retrieval finds one program's passage at a time. The catalogue holds each fact quoted at its
lines, so a table (one row per program, one column per asked field) can cite every cell. Questions
that are not about several programs, or that name no filter, return None and go to passage retrieval.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.finder.match import admits_employees
from bot.schema import MARKER_RE, Answer, Citation, RetrievedPassage
from retrieval.areas import areas
from retrieval.catalogue import FIELD_LABELS, Catalogue, Cited, Program, named_spans
from retrieval.corpus import Manifest
from retrieval.loaders import LoadError, load
from retrieval.text import add_year_aliases, first_fiscal_year, nfkc, squash, tokenize
from retrieval.types import Hit

_COMPARE_RE = re.compile(r"違い|違う|比較|比べ|対比|異なる|相違|どちらが|どっち|compare|comparison|difference|\bvs\.?\b", re.I)
_CLASS = r"(?:補助金|事業(?![主者所])|制度|支援策|施策|基金|プログラム|助成金|融資|税制)"
# A request for a list of programs: 一覧/リスト, or どんな/どのような/何が right before a program word,
# or 「…事業は何がありますか」 (not 「対象経費はどんな…」 or 「…は要りますか」).
# 一覧/list must be of programs: 「対象外経費を一覧で」 or "list the costs" asks for a passage's list instead.
_LIST_RE = re.compile(rf"{_CLASS}(?:の|を|等の)?(?:[^、。？?をの]{{0,4}}(?:額|率)(?:の|を)?)?(?:一覧|リスト|列挙)|"
                      rf"(?:一覧|リスト)[^、。？?]{{0,4}}{_CLASS}|"
                      rf"(?:どんな|どのような|どういう|何の|なんの)[^、。？?]{{0,8}}{_CLASS}|"
                      rf"{_CLASS}(?:に|には|は|として|で)?(?:どんな|どのような|何が|なにが)|"
                      r"\blist\b[^.?]{0,24}\b(?:programs?|subsid\w*|schemes?|grants?)\b|"
                      r"\b(?:which|what) (?:programs?|subsid\w*|schemes?|grants?)\b", re.I)
_CLASS_RE = re.compile(_CLASS + r"|programs?|subsid", re.I)
_FIELD_WORDS: list[tuple[str, str]] = [
    (r"予算|budget", "budget"), (r"補助率|助成率|rate", "rate"), (r"上限|補助額|いくら|金額|\bcap\b|how much", "cap"),
    (r"対象|誰が|だれが|who|eligib", "target"), (r"目的|purpose|aim", "purpose"),
    (r"内容|何を支援|なにを支援|支援する|support", "support"), (r"期間|何年|period", "period"),
    (r"成果|目標|KPI|outcome", "outcomes"), (r"担当|所管|部署|division", "division"),
    (r"問い合わせ|連絡先|電話|contact", "contact"), (r"種類|種別|形態|kind", "kind"),
]
COMPARE_COLUMNS = ("budget", "target", "rate", "cap", "support")
LIST_COLUMNS = ("kind", "budget", "target")
_LONG_FIELDS = {"purpose", "support", "outcomes"}
_KIND_WORDS: list[tuple[str, str]] = [(r"基金", "基金"), (r"税制", "税制"), (r"融資|貸付|出資", "融資"),
                                      (r"委託", "委託"), (r"補助金|補助事業", "補助")]
# Words of a comparison question that ask nothing beyond the table (after program names and field words go).
_PLAIN_WORDS = {"それぞれ", "其々", "補助", "者", "対象", "上限", "比べる", "くらべる", "教える", "説明", "違い", "違う",
                "比較", "比べ", "異なる", "差", "点", "両者", "両方",
                "事業", "補助金", "制度", "税制", "支援", "内容", "概要", "特徴", "場合", "ところ", "どちら", "どっち", "高い",
                "低い", "大きい", "多い", "少ない", "令和", "年度", "当初", "補正", "予備費", "予算", "額", "率", "一覧", "表",
                "まとめる", "お願い", "下さる", "ください", "見る", "たい", "知る", "いう", "なる", "ある", "いる", "する",
                "できる", "これ", "何", "いくら", "どう", "どの", "どれ", "どんな", "よう", "的", "等", "など", "ほう", "方"}
# 「今申請できる」「受付中の」「募集中」: only calls open today (a program's 受付期間, see Program.status).
_OPEN_RE = re.compile(r"(?:今|現在|いま)[^、。？?]{0,6}(?:申請|応募|申し込)|受付中|募集中|公募中|申請受付中|open now|currently open", re.I)
_EMPLOYEES_RE = re.compile(r"(?:従業員|社員|従業者)[^0-9、。]{0,4}(\d{1,5})\s*(?:人|名)")
_TOPIC_RE = re.compile(r"([^\s、。「」『』？?をはがにでとの]{2,20}?)(?:向け|向き|関連|分野|に関する|に関わる|のため|を対象)")
MAX_ROWS = 30
CELL_CHARS = 90


@dataclass
class Request:
    """What a catalogue question asks: programs to compare (one group of candidate entries per program
    named), or filters for a list, and the columns."""

    kind: str  # "comparison" or "list"
    groups: list[list[Program]]
    columns: tuple[str, ...]
    filters: dict[str, str]


class CatalogueAnswers:
    """Recognises catalogue questions and answers them with a table whose every cell is cited."""

    def __init__(self, catalogue: Catalogue, corpus_dir: Path,
                 today: Callable[[], datetime.date] = datetime.date.today) -> None:
        self.catalogue = catalogue
        self.corpus_dir = corpus_dir
        self.today = today  # the day a call's 受付期間 is read against (受付中 filter)
        manifest = Manifest.load(corpus_dir).entries
        self._titles = {f: e.title for f, e in manifest.items()}
        self._years = {f: e.fiscal_year for f, e in manifest.items()}
        self._lines: dict[str, tuple[str, ...]] = {}

    @classmethod
    def load(cls, path: Path, corpus_dir: Path) -> CatalogueAnswers | None:
        """None when there is no catalogue file (the engine then answers from passages only)."""
        if not path.exists():
            return None
        return cls(Catalogue.load(path), corpus_dir)

    # --- recognising --------------------------------------------------------------------------

    def parse(self, question: str, history: Sequence[dict] | None = None) -> Request | None:
        """A comparison (two or more programs named + 違い/比較 or a field word), a list (一覧/どんな… with
        a filter, or a filter such as 新規/令和6年度/基金 with 事業/補助金), or None."""
        q = nfkc(question)
        groups = self._named(q)
        asked = tuple(f for pattern, f in _FIELD_WORDS if re.search(pattern, q, re.I))
        if "target" in asked and "support" not in asked:
            asked = (*asked, "support")  # who a program is for is often only in what it supports
        if len(groups) < 2 and history and asked and len(q) <= 40 and not _LIST_RE.search(q):
            # 「それぞれの補助率は？」 after a comparison: the programs of the last question.
            last = nfkc(next((t["content"] for t in reversed(history) if t.get("role") == "user"), ""))
            if _COMPARE_RE.search(last) and len(earlier := self._named(last)) >= 2:
                groups = earlier
        if len(groups) >= 2 and (_COMPARE_RE.search(q) or asked):
            filters = {k: v for k, v in self._filters(q, topic=False).items() if k != "kind"}
            return Request("comparison", groups, asked or COMPARE_COLUMNS, filters)
        if groups or not _CLASS_RE.search(q):
            return None
        filters = self._filters(q)
        listing = _LIST_RE.search(q)
        if (listing and filters) or ({"new", "year", "kind", "reserve", "open"} & set(filters) and (
                listing or re.search(rf"{_CLASS}(?:は|を)[？?]?(?:教えて[^、。]*)?$", q))):
            columns = tuple(dict.fromkeys((*LIST_COLUMNS, *asked, *(("deadline",) if "open" in filters else ()))))
            return Request("list", [], columns, filters)
        return None

    def _named(self, q: str) -> list[list[Program]]:
        """One group of candidate entries per program the text names (entries that only record where a
        document mentions a program give way to entries with facts)."""
        groups: list[list[Program]] = []
        for key, entries in named_spans(q, self.catalogue):
            described = [p for p in entries if p.fields]
            group = described or entries
            # 「…支援補助金」 also finds 「…支援補助金（災害復興事業）」; the exact name comes first, the
            # qualified one is kept for a question that asks for its year or budget (予備費).
            group.sort(key=lambda p: squash(p.name).lower() != key and key not in
                       {squash(n).lower() for n in p.nicknames})
            # 「戦略的基盤技術高度化支援事業（サポイン事業）」: a name and its nickname are one program.
            if group and not any({id(p) for p in group} & {id(p) for p in g} for g in groups):
                groups.append(group)
        return groups

    def _filters(self, q: str, topic: bool = True) -> dict[str, str]:
        filters: dict[str, str] = {}
        if "新規" in q:
            filters["new"] = "新規"
        if year := first_fiscal_year(q):
            filters["year"] = year
        if "予備費" in q:
            filters["reserve"] = "予備費"
        elif "補正" in q:
            filters["supplementary"] = "補正"
        elif "当初" in q:
            filters["initial"] = "当初"
        for pattern, kind in _KIND_WORDS:
            if re.search(pattern, q):
                filters["kind"] = kind
                break
        if _OPEN_RE.search(q):
            filters["open"] = "受付中"
        if area := next(iter(areas().mentioned(q)), None):
            filters["area"] = area
        if m := _EMPLOYEES_RE.search(q):
            filters["employees"] = m.group(1)
        if not topic:
            return filters
        named = _TOPIC_RE.search(q)
        if named and not re.fullmatch(r"(中小企業|事業|補助金|制度|支援)", named.group(1)):
            filters["topic"] = named.group(1)
        elif m := re.search(r"(小規模事業者|中小企業|中堅企業|スタートアップ|製造業|大学|宇宙|半導体|蓄電池|自動車|航空機|"
                            r"サイバー|省エネ|海外|復興|災害|伝統的工芸品|事業承継|研究開発|IT|DX)", q):
            filters["topic"] = m.group(1)
        return filters

    def select(self, request: Request) -> list[Program]:
        """The rows: for a comparison one entry per named program (the one stating most asked fields);
        for a list every entry passing the filters, one per program name."""
        if request.kind == "comparison":
            # A year or 補正/予備費 in the question picks among a program's entries when it can.
            groups = [[p for p in g if _passes(p, request.filters, self.catalogue, self.today())] if request.filters else []
                      for g in request.groups]
            groups = [narrowed or [p for p in g if squash(p.name) == squash(g[0].name)] or g
                      for narrowed, g in zip(groups, request.groups)]
            # Compare like with like: prefer the document that describes most of the named programs.
            sources = {p.heading.source for g in groups for p in g}
            shared = max(sources, key=lambda s: (sum(any(p.heading.source == s for p in g) for g in groups),
                                                 sum(sum(f in p.fields for f in request.columns)
                                                     for g in groups for p in g if p.heading.source == s), s))
            return [_best([p for p in g if p.heading.source == shared] or g, request.columns) for g in groups]
        rows: list[Program] = []
        for p in self.catalogue.programs:
            if _passes(p, request.filters, self.catalogue, self.today()):
                rows.append(p)
        rows = [_best(group, request.columns) for group in _groups(rows)]
        return rows

    # --- answering ----------------------------------------------------------------------------

    def answer(self, question: str, hits: list[Hit], history: Sequence[dict] | None = None) -> Answer | None:
        request = self.parse(question, history)
        return self.table(request, hits) if request is not None else None

    def table(self, request: Request, hits: list[Hit]) -> Answer | None:
        """The cited table for a parsed request; None when too few programs pass (the next route answers)."""
        rows = self.select(request)
        if not rows and request.kind == "list" and "open" in request.filters:
            return self._none_open(request, hits)
        if len(rows) < (2 if request.kind == "comparison" else 1):
            return None
        citations: dict[tuple[str, int, int], Citation] = {}

        def cite(program: Program, c: Cited) -> int:
            key = (c.source, c.start_line, c.end_line)
            if key not in citations:
                citations[key] = Citation(n=len(citations) + 1, source=c.source,
                                          title=self._titles.get(c.source, c.source), section=program.name,
                                          start_line=c.start_line, end_line=c.end_line, text=self._text(c))
            return citations[key].n

        header = ["事業"] + [FIELD_LABELS[f] for f in request.columns]
        table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for p in rows[:MAX_ROWS]:
            label = p.name + (f"（{p.nicknames[0]}）" if p.nicknames else "")
            heading = _title_block(p)
            cells = [f"{_cell(label)} [{cite(p, heading)}]"]
            for f in request.columns:
                c, note, owner = self._field(p, f)
                if c is None:
                    cells.append("記載なし")
                    continue
                value = c.value if f not in _LONG_FIELDS or len(c.value) <= CELL_CHARS else c.value[:CELL_CHARS] + "…"
                if f == "budget" and "年度" not in value and self._years.get(c.source):
                    # 「42億円」 in a white paper: say which year's document it comes from (the manifest's words)
                    note = f"{note}〔{self._years[c.source]}の資料〕"
                # the title and its 予算額 line right under it are one block: one citation for both cells
                where = heading if owner is p and f == "budget" and heading is not p.heading else c
                cells.append(f"{note}{_cell(value)} [{cite(owner, where)}]")
            table.append("| " + " | ".join(cells) + " |")
        intro = self._intro(request, rows)
        notes = []
        if len(rows) > MAX_ROWS:
            notes.append(f"（該当 {len(rows)} 件のうち {MAX_ROWS} 件を表示しています。）")
        notes.append("「記載なし」は登録資料にその項目の記載が見つからないことを示します。金額・補助率は資料の年度時点の記載です。")
        text = "\n".join([intro, "", *table, "", *notes])
        ordered = sorted(citations.values(), key=lambda c: c.n)
        answer = Answer(answer=text, refused=False, citations=ordered,
                        retrieved=[RetrievedPassage.of(h.passage, score=h.score) for h in hits])
        answer.hits = hits
        return answer

    def _none_open(self, request: Request, hits: list[Hit]) -> Answer:
        """No call the catalogue holds is open today under the asked conditions. Passages cannot say what is
        open today (they would quote a call elsewhere or a closed one as if it applied), so this is said plainly,
        with the conditions read and where to look next."""
        text = (f"登録されている資料と公募情報には、{self._conditions(request)}事業は見つかりませんでした。"
                "公募情報は最後に同期した時点のものです。最新の公募はjGrants（https://www.jgrants-portal.go.jp/）で"
                "ご確認いただくか、最寄りのよろず支援拠点にご相談ください。")
        answer = Answer(answer=text, refused=True, citations=[],
                        retrieved=[RetrievedPassage.of(h.passage, score=h.score) for h in hits])
        answer.hits = hits
        return answer

    def needs_passages(self, question: str) -> bool:
        """Does a comparison ask for more than the catalogue's fields (「採択件数も並べて」, 「昨年との差も」)?

        The words left once program names, field words and comparison words are taken out decide.
        """
        q = nfkc(question)
        for _key, entries in named_spans(q, self.catalogue):
            for name in sorted({n for p in entries for n in p.names()}, key=len, reverse=True):
                q = q.replace(nfkc(name), " ")
        for pattern, _ in _FIELD_WORDS:
            q = re.sub(pattern, " ", q, flags=re.I)
        q = _COMPARE_RE.sub(" ", q)
        return any(t not in _PLAIN_WORDS and not re.fullmatch(r"[\d.,/%]+|[ぁ-ん]{1,2}", t) for t in tokenize(q))

    def combine(self, table: Answer, passages: Answer) -> Answer:
        """The table, then the passage answer with its [n] renumbered after the table's citations."""
        if passages.refused or not passages.citations:
            return table
        citations = list(table.citations)
        where = {(c.source, c.start_line, c.end_line): c.n for c in citations}
        renumber: dict[int, int] = {}
        for c in passages.citations:
            key = (c.source, c.start_line, c.end_line)
            if key not in where:
                where[key] = len(citations) + 1
                citations.append(c.model_copy(update={"n": where[key]}))
            renumber[c.n] = where[key]
        text = MARKER_RE.sub(lambda m: f"[{renumber.get(int(m.group(1)), int(m.group(1)))}]", passages.answer)
        answer = Answer(answer=f"{table.answer}\n\n資料の関連する記載:\n{text}", refused=False, citations=citations,
                        retrieved=table.retrieved, notice=getattr(passages, "notice", None))
        answer.hits = table.hits
        return answer

    def _field(self, p: Program, f: str) -> tuple[Cited | None, str, Program]:
        """The field of the entry; a program inside another's sheet shows that sheet's budget, marked so."""
        if f in p.fields:
            return p.fields[f], "", p
        if f == "budget" and p.parent:
            parent = next((q for q in self.catalogue.programs if q.id == p.parent), None)
            if parent and "budget" in parent.fields:
                return parent.fields["budget"], f"（{parent.name}全体）", parent
        return None, "", p

    def _intro(self, request: Request, rows: list[Program]) -> str:
        if request.kind == "comparison":
            names = "、".join(dict.fromkeys(p.nicknames[0] if p.nicknames else p.name for p in rows))
            return f"{names}を、登録資料の記載で比較します（各セルの[n]が出典です）。"
        cond = self._conditions(request)
        return f"登録資料に記載のある{cond}事業は次の{len(rows)}件です（各セルの[n]が出典です）。"

    def _conditions(self, request: Request) -> str:
        """The list's filters in words (「本日（…）受付中の・福岡が対象に含まれる」)."""
        labels = {"new": "新規", "year": request.filters.get("year", ""), "supplementary": "補正予算",
                  "reserve": "予備費",
                  "initial": "当初予算", "kind": f"{request.filters.get('kind', '')}（種別）",
                  "topic": f"「{request.filters.get('topic', '')}」に関する",
                  "open": f"本日（{self.today():%Y年%m月%d日}）受付中の", "area": f"{request.filters.get('area', '')}が対象に含まれる",
                  "employees": f"従業員{request.filters.get('employees', '')}人が対象に含まれる"}
        return "・".join(labels[k] for k in request.filters if labels.get(k))

    def _text(self, c: Cited) -> str:
        """The cited lines as they stand in the file (what a citation shows)."""
        if c.source not in self._lines:
            try:
                self._lines[c.source] = load(self.corpus_dir / c.source).lines
            except LoadError:
                self._lines[c.source] = ()
        lines = self._lines[c.source]
        text = "\n".join(lines[c.start_line - 1:c.end_line]).strip()
        return text or c.value


def _title_block(p: Program) -> Cited:
    """A sheet's title with the 予算額 line right under it (at most two lines apart), as one range."""
    b = p.fields.get("budget")
    h = p.heading
    if b and b.source == h.source and 0 <= b.start_line - h.end_line <= 2:
        return Cited(value=h.value, source=h.source, start_line=h.start_line, end_line=b.end_line)
    return h


def _cell(text: str) -> str:
    return text.replace("|", "｜").replace("\n", " ").strip()


def _groups(programs: list[Program]) -> list[list[Program]]:
    """Entries grouped by official name, in list order (a program in several sheets is one row)."""
    groups: dict[str, list[Program]] = {}
    for p in programs:
        groups.setdefault(squash(p.name), []).append(p)
    return list(groups.values())


def _best(group: list[Program], columns: Sequence[str]) -> Program:
    """The entry stating most of the asked fields; ties go to the newest document (higher file number)."""
    return max(group, key=lambda p: (sum(1 for f in columns if f in p.fields), len(p.fields), p.heading.source,
                                     -p.heading.start_line))


def _passes(p: Program, filters: dict[str, str], catalogue: Catalogue, today: datetime.date | None = None) -> bool:
    budget = p.fields.get("budget")
    if budget is None and p.parent:
        parent = next((q for q in catalogue.programs if q.id == p.parent), None)
        budget = parent.fields.get("budget") if parent else None
    b = squash(add_year_aliases(nfkc(budget.value))) if budget else ""
    if "new" in filters and "(新規)" not in b:
        return False
    if "year" in filters and not b.startswith(squash(filters["year"])):
        return False
    if "reserve" in filters and "予備費" not in b:
        return False
    if "supplementary" in filters and "補正" not in b:
        return False
    if "initial" in filters and ("補正" in b or "予備費" in b or not b):
        return False
    if "kind" in filters and (p.fields.get("kind") is None or p.fields["kind"].value != filters["kind"]):
        return False
    if "open" in filters and (today is None or p.status(today) != "受付中"):
        return False
    target = p.fields["target"].value if "target" in p.fields else ""
    if "area" in filters and not areas().admits(p.name + " " + target, filters["area"]):
        return False  # for another prefecture or region (one naming none, or 全国, is for everywhere)
    if "employees" in filters and not admits_employees(target, int(filters["employees"])):
        return False
    if "topic" in filters:
        key = squash(filters["topic"])
        texts = [p.name, *p.nicknames, *(p.fields[f].value for f in ("target", "purpose", "support") if f in p.fields)]
        if not any(key in squash(t) for t in texts):
            return False
    return True


__all__ = ["CatalogueAnswers", "Request"]
