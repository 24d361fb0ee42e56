"""The 公募要領 layout (layouts.koubo) on the real IT導入補助金2025 calls of ../shared/realdocs.

The expected facts are what a person reads in each PDF's 「補助対象経費、補助率及び補助額」 table (or the
複数社連携 call's 「補助率と補助額」 table), its purpose and target headings and its schedule: the layout must
find them, every value must stand at its cited lines, and nothing else of the document becomes an entry.
"""

import pytest

from retrieval.catalogue import Catalogue, check
from retrieval.catalogue.check import stands_at
from retrieval.catalogue.layouts import koubo
from retrieval.corpus import add_document
from retrieval.glossary import Glossary
from retrieval.loaders import load
from retrieval.text import fact_present
from retrieval.types import Document
from tests.conftest import CORPUS, REALDOCS

pytestmark = [pytest.mark.skipif(not REALDOCS.is_dir(), reason=f"the real 公募要領 are not beside the checkout ({REALDOCS})"),
              pytest.mark.pdf]

# file -> (entry name, {field: facts its value must state})
READ_FROM_THE_PDFS = {
    "it2025_koubo_tsujyo.pdf": ("IT導入補助金2025（通常枠）", {
        "cap": ["５万円～１５０万円未満", "１５０万円～４５０万円以下", "４プロセス以上"],
        "rate": ["１／２以内", "２／３以内"],
        "support": ["ソフトウェア購入費", "導入関連費"],
        "deadline": ["受付締切スケジュール", "ホームページ"],
        "period": ["交付決定日～６ヶ月間程度"],
        "target": ["中小企業・小規模事業者等"],
    }),
    "it2025_koubo_invoice.pdf": ("IT導入補助金2025（インボイス対応類型）", {
        "cap": ["３５０万円", "１０万円", "２０万円"],
        "rate": ["２／３以内～４／５以内", "１／２以内"],
        "support": ["ソフトウェア購入費", "ハードウェア購入費"],
        "deadline": ["受付締切スケジュール"],
        "target": ["中小企業・小規模事業者等"],
    }),
    "it2025_koubo_denshi.pdf": ("IT導入補助金2025（電子取引類型）", {
        "cap": ["３５０万円"],
        "rate": ["２/３以内", "１/２以内"],
        "support": ["クラウド利用費"],
        "deadline": ["受付締切スケジュール"],
    }),
    "it2025_koubo_security.pdf": ("IT導入補助金2025（セキュリティ対策推進枠）", {
        "cap": ["５万円～１５０万円"],
        "rate": ["１／２以内", "２／３以内"],
        "support": ["サービス利用料"],
        "deadline": ["受付締切スケジュール"],
        "target": ["中小企業・小規模事業者等"],
    }),
    "it2025_koubo_fukusu.pdf": ("IT導入補助金2025（複数社連携IT導入枠）", {
        "cap": ["３，０００万円", "２００万円"],
        "rate": ["３／４以内", "４／５以内"],
        "support": ["ソフトウェア購入費", "クラウド利用費"],
        "deadline": ["受付締切スケジュール"],
    }),
}


@pytest.fixture(scope="module")
def documents() -> dict[str, Document]:
    return {name: load(REALDOCS / name) for name in READ_FROM_THE_PDFS}


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.load(CORPUS / "glossary.yaml")


@pytest.mark.parametrize("file", sorted(READ_FROM_THE_PDFS))
def test_each_call_has_its_cap_rate_costs_and_deadline_at_their_lines(file, documents, glossary):
    doc = documents[file]
    [entry] = koubo.programs(doc, glossary)
    name, expected = READ_FROM_THE_PDFS[file]
    assert entry.name == name
    assert entry.fields["kind"].value == "補助"
    for field, facts in expected.items():
        cited = entry.fields.get(field)
        assert cited is not None, f"{name}: no {field}"
        for fact in facts:
            assert fact_present(fact, cited.value), f"{name} {field}: {fact!r} not in {cited.value!r}"
        assert stands_at(cited.value, doc.lines, cited.start_line, cited.end_line), f"{name} {field}: not at its lines"


def test_the_overview_table_of_every_frame_is_not_read_as_the_calls_own(documents, glossary):
    """The first pages compare every 枠; the 複数社連携 call's own rate stands in its 「補助率と補助額」 section."""
    [entry] = koubo.programs(documents["it2025_koubo_fukusu.pdf"], glossary)
    overview_end = next(n for n, ln in enumerate(documents["it2025_koubo_fukusu.pdf"].lines, 1) if ln.startswith("目次"))
    assert entry.fields["rate"].start_line > overview_end


def test_a_deadline_with_a_date_gives_the_calls_status(glossary):
    lines = ("ものづくり補助金 公募要領（第２０次）", "", "１．事業の目的", "本事業は、中小企業の設備投資を支援することを目的とする。",
             "", "２．補助率及び補助上限", "補助上限額：７５０万円", "補助率：１／２以内", "", "３．公募期間",
             "申請受付締切：２０２５年７月２５日（金）１７：００")
    doc = Document(source="m.txt", title="", lines=lines, content_hash="x")
    [entry] = koubo.programs(doc, glossary)
    assert (entry.fields["cap"].value, entry.fields["rate"].value) == ("７５０万円", "１／２以内")
    import datetime
    assert entry.status(datetime.date(2025, 7, 1)) == "受付中"
    assert entry.status(datetime.date(2025, 8, 1)) == "受付終了"
    assert entry.public(datetime.date(2025, 8, 1))["status"] == "受付終了"
    assert "deadline" not in entry.public()["fields"]  # the shared JSON shape keeps its own field names


def test_a_document_that_is_not_a_call_is_left_to_the_other_layouts(glossary):
    doc = load(CORPUS / "004_c456cd78b52186c0.txt")
    assert koubo.programs(doc, glossary) == []


def test_catalogue_build_after_add_creates_the_entries_and_check_passes(tmp_path, glossary):
    """As a user would: `advisor add` a 公募要領, `advisor catalogue build`, `advisor catalogue check`."""
    from retrieval.catalogue import build

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "glossary.yaml").write_bytes((CORPUS / "glossary.yaml").read_bytes())
    add_document(REALDOCS / "it2025_koubo_security.pdf", corpus)
    catalogue, report = build(corpus)
    assert "IT導入補助金2025（セキュリティ対策推進枠）｜it2025_koubo_security.txt" in report.added
    catalogue.save(corpus / "programs.yaml")
    result = check(Catalogue.load(corpus / "programs.yaml"), corpus)
    assert result.ok, result.violations or result.coverage.missing
