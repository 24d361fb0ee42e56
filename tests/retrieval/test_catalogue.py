"""The program catalogue: the committed file checks, tampering is caught, rebuilds keep reviewed entries."""


import pytest
import yaml

from retrieval.catalogue import (
    FIELDS,
    Catalogue,
    CatalogueError,
    build,
    check,
    extract,
    filter_programs,
    load_documents,
    programs_named,
)
from retrieval.glossary import Glossary
from tests.conftest import CORPUS

COMMITTED = CORPUS / "programs.yaml"


@pytest.fixture(scope="module")
def committed() -> Catalogue:
    return Catalogue.load(COMMITTED)


def test_committed_catalogue_passes_check(committed):
    report = check(committed, CORPUS)
    assert report.violations == []
    assert report.coverage.missing == []  # every program heading the documents name has an entry
    assert len(committed.programs) >= 100
    assert sum(p.reviewed for p in committed.programs) >= 5
    assert report.coverage.share("budget") >= 0.8
    sheets = report.coverage.sheets  # entries of budget PR sheets: who and how much are on the sheet
    assert sheets.share("target") >= 0.65 and sheets.share("rate") >= 0.45


def test_committed_catalogue_has_the_named_programs(committed):
    for name in ("サポイン", "Go-Tech", "ものづくり補助金", "IT導入補助金", "事業再構築補助金", "持続化補助金"):
        assert committed.find(name), name
    gotech = next(p for p in committed.find("Go-Tech") if p.heading.source.startswith("004"))
    assert gotech.fields["budget"].value == "令和6年度予算額 128億円（133億円）"
    assert "2/3" in gotech.fields["rate"].value and "4,500万円" in gotech.fields["cap"].value
    jizoku = next(p for p in committed.find("持続化補助金") if "cap" in p.fields)
    assert (jizoku.fields["cap"].value, jizoku.fields["rate"].value) == ("100万円", "3/4")


def test_check_fails_on_a_value_that_is_not_at_its_lines(tmp_path, committed):
    data = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    entry = next(p for p in data["programs"] if "budget" in p["fields"])
    entry["fields"]["budget"]["value"] = entry["fields"]["budget"]["value"].replace("億円", "兆円", 1)
    moved = next(p for p in data["programs"] if "rate" in p["fields"] and p is not entry)
    start, _, end = moved["fields"]["rate"]["lines"].partition("-")
    moved["fields"]["rate"]["lines"] = f"{int(start) + 40}-{int(end) + 40}"  # right value, wrong lines
    tampered = tmp_path / "programs.yaml"
    tampered.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    report = check(Catalogue.load(tampered), CORPUS)
    problems = [str(v) for v in report.violations]
    assert len(problems) == 2, problems
    assert any(entry["name"] in p and "budget" in p and entry["fields"]["budget"]["source"] in p for p in problems)
    assert any(moved["name"] in p and "rate" in p for p in problems)


def test_malformed_catalogue_is_a_clear_error(tmp_path):
    bad = tmp_path / "programs.yaml"
    bad.write_text("programs:\n- id: x\n  name: x\n  heading: {value: x, source: a.txt, lines: 1-1}\n"
                   "  fields: {price: {value: x, source: a.txt, lines: 1-1}}\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="unknown field"):
        Catalogue.load(bad)


SHEET = """
{title}
令和6年度予算額 {budget}（新規）

事業の内容 事業スキーム（対象者、対象行為、補助率等）

事業目的

中小企業の{what}を支援することで、生産性を向上させることを

目的とする。

中小企業庁経営支援部 技術・経営革新課

成果目標

事業終了後3年で、付加価値額が9％以上向上することを目指す。

事業概要

中小企業等が行う{what}に必要な経費を補助する。

国

補助

（2/3）

中小企業等

〇補助上限額：1,000万円
〇補助率：2/3以内
"""


def _doc(path, title, budget, what):
    path.write_text(SHEET.format(title=title, budget=budget, what=what) + "\n\n\n\n", encoding="utf-8")


def test_extractor_reads_a_pr_sheet(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _doc(corpus / "a.txt", "ものづくり試作開発支援事業", "12億円", "試作品開発")
    (p,) = extract(load_documents(corpus), Glossary())
    f = {k: v.value for k, v in p.fields.items()}
    assert p.name == "ものづくり試作開発支援事業"
    assert f["budget"] == "令和6年度予算額 12億円（新規）"
    assert f["division"] == "中小企業庁経営支援部 技術・経営革新課" and f["ministry"] == "中小企業庁"
    assert f["kind"] == "補助" and f["rate"] == "2/3以内" and f["cap"] == "1,000万円"
    assert f["target"] == "中小企業等"
    assert f["purpose"].startswith("中小企業の試作品開発を支援") and f["purpose"].endswith("目的とする。")
    assert f["outcomes"].startswith("事業終了後3年で") and f["support"].endswith("経費を補助する。")
    assert set(f) <= set(FIELDS)
    assert check(Catalogue([p]), corpus).violations == []


def test_build_on_a_new_document_keeps_reviewed_entries(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _doc(corpus / "a.txt", "ものづくり試作開発支援事業", "12億円", "試作品開発")
    catalogue, report = build(corpus)
    assert len(report.added) == 1
    # A person reviews the entry: shortens the purpose to a narrower quotation and marks it reviewed.
    (entry,) = catalogue.programs
    entry.origin = "reviewed"
    entry.fields["purpose"] = entry.fields["purpose"].model_copy(update={"value": "中小企業の試作品開発を支援"})
    catalogue.save(corpus / "programs.yaml")
    saved = (corpus / "programs.yaml").read_text(encoding="utf-8")
    assert "origin: reviewed" in saved and "\\u" not in saved  # Japanese written as is
    # A new document arrives; rebuilding proposes its program and keeps the reviewed one as it was.
    _doc(corpus / "b.txt", "販路開拓デジタル化支援事業", "8.4億円", "販路開拓")
    catalogue2, report2 = build(corpus)
    assert report2.kept_reviewed == [entry.id] and len(report2.added) == 1
    assert report2.draft_differs == [entry.id]  # the reviewer is told the extractor reads it otherwise
    by_name = {p.name: p for p in catalogue2.programs}
    assert by_name["ものづくり試作開発支援事業"] == Catalogue.load(corpus / "programs.yaml").programs[0]
    assert by_name["ものづくり試作開発支援事業"].fields["purpose"].value == "中小企業の試作品開発を支援"
    assert by_name["販路開拓デジタル化支援事業"].origin == "extracted"
    assert by_name["販路開拓デジタル化支援事業"].fields["budget"].value == "令和6年度予算額 8.4億円（新規）"
    # Asked for, a reviewed entry is drafted again.
    again, _ = build(corpus, redraft=[entry.id])
    redone = next(p for p in again.programs if p.id == entry.id)
    assert redone.origin == "extracted" and redone.fields["purpose"].value.endswith("目的とする。")
    with pytest.raises(CatalogueError, match="no entry"):
        build(corpus, redraft=["no such id"])
    # The reviewed entry is kept even when its document goes away.
    (corpus / "a.txt").unlink()
    catalogue3, report3 = build(corpus)
    assert report3.stale_reviewed == [entry.id] and entry.id in {p.id for p in catalogue3.programs}


def test_save_and_load_round_trip(tmp_path, committed):
    path = tmp_path / "programs.yaml"
    committed.save(path)
    assert Catalogue.load(path).programs == committed.programs
    committed.save(tmp_path / "again.yaml")
    assert (tmp_path / "again.yaml").read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_find_and_filter(committed):
    assert all(p.name == "サービス等生産性向上IT導入支援事業" for p in committed.find("ＩＴ導入補助金"))
    funds = filter_programs(committed.programs, kind="基金")
    assert funds and all(p.fields["kind"].value == "基金" for p in funds)
    sme = filter_programs(committed.programs, word="小規模事業者")
    assert any("持続的発展" in p.name for p in sme)
    named = programs_named("ものづくり補助金とIT導入補助金の違いは？", committed)
    assert {p.name for p in named} == {"ものづくり・商業・サービス生産性向上促進事業", "サービス等生産性向上IT導入支援事業"}
    with pytest.raises(CatalogueError):
        filter_programs(committed.programs, kind="贈与")
