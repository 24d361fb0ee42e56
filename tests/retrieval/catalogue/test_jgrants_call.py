"""The jGrants call layout (layouts.jgrants_call) on a record written from a detail in the API's own shape
(UTC datetimes with Z, the amount in yen, HTML detail): every fact lands in its field at its own line."""

import datetime

from retrieval.catalogue.check import stands_at
from retrieval.catalogue.layouts import jgrants_call
from retrieval.glossary import Glossary
from retrieval.jgrants.record import render
from retrieval.types import Document

DETAIL = {  # the fields of GET /subsidies/id/{id} (jGrants API 1.0), values as the portal gives them
    "id": "a0W5h00000UpAbCEAV", "name": "S-00001234", "title": "令和8年度 福岡県中小企業デジタル化支援補助金",
    "institution_name": "福岡県", "acceptance_start_datetime": "2026-11-30T15:00:00.000Z",
    "acceptance_end_datetime": "2027-01-29T08:00:00.000Z", "subsidy_max_limit": 1500000,
    "subsidy_rate": "1/2以内", "target_area_search": "福岡県", "target_area_detail": "県内に事業所を有すること",
    "target_number_of_employees": "20名以下", "industry": "製造業 / 小売業", "use_purpose": "設備整備・IT導入をしたい",
    "detail": "<p>県内中小企業の<b>デジタル化</b>を支援します。</p><p>クラウドサービスの導入費用を補助します。</p>",
}


def test_a_jgrants_record_becomes_one_entry_each_fact_cited_at_its_line():
    text = render(DETAIL, datetime.date(2026, 12, 7))
    lines = text.splitlines()
    [entry] = jgrants_call.programs(Document(source="jgrants_x.txt", title="", lines=tuple(lines), content_hash=""), Glossary(), "")
    got = {k: (c.value, c.start_line, c.end_line) for k, c in entry.fields.items()}
    assert entry.name == "令和8年度 福岡県中小企業デジタル化支援補助金"
    assert got["deadline"] == ("2026年12月1日 0:00 ～ 2027年1月29日 17:00", 3, 3)  # JST, as a person reads it
    assert got["cap"] == ("150万円", 5, 5) and got["rate"] == ("1/2以内", 6, 6)
    assert got["target"] == ("対象地域: 福岡県 対象地域の詳細: 県内に事業所を有すること 対象従業員数: 20名以下 "
                             "対象業種: 製造業 / 小売業", 7, 10)
    assert got["purpose"][0] == "設備整備・IT導入をしたい" and got["kind"][0] == "補助"
    for c in [entry.heading, *entry.fields.values()]:
        if c is not entry.fields["kind"]:
            assert stands_at(c.value, lines, c.start_line, c.end_line), c
    assert entry.status(datetime.date(2026, 11, 20)) == "公募予定"
    assert entry.status(datetime.date(2026, 12, 7)) == "受付中"
    assert entry.status(datetime.date(2027, 1, 30)) == "受付終了"
    assert "https://www.jgrants-portal.go.jp/grants/view/a0W5h00000UpAbCEAV" in text
    assert "Jグランツ（jGrants）からの出典" in text and "デジタル化を支援します。" in text


def test_other_documents_are_not_jgrants_records():
    doc = Document(source="a.txt", title="", lines=("IT導入補助金2025 公募要領", "補助率: 1/2以内"), content_hash="")
    assert jgrants_call.programs(doc, Glossary(), "") == []
