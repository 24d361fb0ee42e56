"""A jGrants call as a document of the corpus: label-value lines a person can open and cite.

The record is plain text written once per call version: what the portal says (受付期間, 補助上限額, 補助率,
対象地域, 従業員数 …), the call's page and the credit jGrants asks for, then the detail text. Citations point at
these lines like at any document's; the catalogue reads them with its jGrants layout
(retrieval/catalogue/layouts/jgrants_call.py), whose labels are the ones written here.
"""

from __future__ import annotations

import datetime
from typing import Any

from bs4 import BeautifulSoup

from retrieval.jgrants.client import CREDIT, PORTAL_URL

HEADER = "【jGrants公募情報】"
JST = datetime.timezone(datetime.timedelta(hours=9))
# label -> the detail's field; the order is the record's line order
LABELS: tuple[tuple[str, str], ...] = (
    ("実施機関", "institution_name"), ("受付期間", "acceptance"), ("申請締切", "acceptance_end_datetime"),
    ("補助上限額", "subsidy_max_limit"), ("補助率", "subsidy_rate"), ("対象地域", "target_area_search"),
    ("対象地域の詳細", "target_area_detail"), ("対象従業員数", "target_number_of_employees"), ("対象業種", "industry"),
    ("利用目的", "use_purpose"), ("事業終了期限", "project_end_deadline"),
)


def when(value: Any) -> datetime.datetime | None:
    """An API datetime (UTC with Z, or any offset) as an aware datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=JST)


def _jst(value: Any) -> str:
    moment = when(value)
    if moment is None:
        return ""
    local = moment.astimezone(JST)
    return f"{local.year}年{local.month}月{local.day}日 {local.hour}:{local.minute:02d}"


def _yen(value: Any) -> str:
    try:
        amount = int(float(value))
    except (TypeError, ValueError):
        return str(value or "")
    if amount <= 0:
        return ""
    if amount % 10_000 == 0:
        man = amount // 10_000
        return f"{man // 10_000}億{man % 10_000}万円".replace("億0万円", "億円") if man >= 10_000 else f"{man:,}万円"
    return f"{amount:,}円"


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " / ".join(str(v) for v in value if v)
    return " ".join(str(value or "").split())


_BLOCKS = ("p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dd", "dt")


def _plain(html: str) -> str:
    """The detail HTML as text: a line per block element or <br>, inline tags (<b>, <a>) kept in their line."""
    soup = BeautifulSoup(html, "html.parser")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(_BLOCKS):
        block.append("\n")
    return soup.get_text("")


LINK_LABEL = "jGrantsのページ"


def portal_link(lines: list[str]) -> str | None:
    """The call's jGrants page as its record states it (None for any other document)."""
    if not lines or not lines[0].startswith(HEADER):
        return None
    for line in lines[1:]:
        if line.startswith(LINK_LABEL + ": "):
            return line.removeprefix(LINK_LABEL + ": ").strip()
    return None


def render(detail: dict[str, Any], fetched: datetime.date) -> str:
    """The call's record text (ends with a newline)."""
    title = _text(detail.get("title") or detail.get("name"))
    lines = [f"{HEADER}{title}"]
    for label, key in LABELS:
        raw = detail.get(key)
        if key == "acceptance":
            start, end = _jst(detail.get("acceptance_start_datetime")), _jst(detail.get("acceptance_end_datetime"))
            value = f"{start} ～ {end}" if start and end else ""
        elif key.endswith(("_datetime", "_deadline")):
            value = _jst(raw)
        else:
            value = _yen(raw) if key == "subsidy_max_limit" else _text(raw)
        if value:
            lines.append(f"{label}: {value}")
    lines.append(f"{LINK_LABEL}: {PORTAL_URL.format(id=detail['id'])}")
    if detail.get("front_subsidy_detail_page_url"):
        lines.append(f"詳細ページ: {detail['front_subsidy_detail_page_url']}")
    if detail.get("inquiry_url"):
        lines.append(f"問い合わせ: {detail['inquiry_url']}")
    lines.append(f"出典: {CREDIT}（ID {detail['id']}、{fetched.isoformat()} 取得）")
    paragraphs = [" ".join(p.split()) for p in _plain(detail.get("detail") or "").splitlines() if p.strip()]
    if paragraphs:
        lines += ["", "■ 概要", *paragraphs]
    return "\n".join(lines) + "\n"
