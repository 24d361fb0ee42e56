"""CallNotes: the status of a call an answer quotes, read from its catalogue deadline against the day."""

import datetime

from bot.call_notes import CallNotes
from retrieval.catalogue.layouts import jgrants_call
from retrieval.catalogue.model import Catalogue
from retrieval.corpus import Manifest, ManifestEntry
from retrieval.glossary import Glossary
from retrieval.jgrants.record import render
from retrieval.types import Document

DETAIL = {  # GET /subsidies/id/{id} as the portal gives it (UTC datetimes with Z)
    "id": "a0W5h00000ZzXyAAB", "title": "令和8年度 佐賀県小規模事業者販路開拓補助金", "institution_name": "佐賀県",
    "acceptance_start_datetime": "2026-10-31T15:00:00.000Z", "acceptance_end_datetime": "2026-11-30T08:00:00.000Z",
    "subsidy_max_limit": 500000, "subsidy_rate": "2/3以内", "target_area_search": "佐賀県",
    "detail": "<p>展示会出展や広告の費用を補助します。</p>",
}
RECORD = "jgrants_a0W5h00000ZzXyAAB.txt"
GUIDELINES = "jgrants_a0W5h00000ZzXyAAB_application_guidelines_1.txt"


def notes_for(tmp_path, today):
    text = render(DETAIL, datetime.date(2026, 11, 1))
    (tmp_path / RECORD).write_text(text, encoding="utf-8")
    (tmp_path / GUIDELINES).write_text("販路開拓補助金 公募要領\n補助対象経費は広報費です。\n", encoding="utf-8")
    (tmp_path / "other.txt").write_text("別の事業の資料\n", encoding="utf-8")
    doc = Document(source=RECORD, title="", lines=tuple(text.splitlines()), content_hash="")
    catalogue = Catalogue(jgrants_call.programs(doc, Glossary()))
    manifest = Manifest({
        RECORD: ManifestEntry(file=RECORD, title="販路開拓補助金（jGrants）", program=DETAIL["title"]),
        GUIDELINES: ManifestEntry(file=GUIDELINES, title="販路開拓補助金（公募要領）", program=DETAIL["title"]),
        "other.txt": ManifestEntry(file="other.txt", title="別の資料"),
    })
    return CallNotes(catalogue, manifest, tmp_path, today=lambda: today)


def test_a_quoted_call_past_its_deadline_says_closed_with_its_period_and_page(tmp_path):
    [note] = notes_for(tmp_path, datetime.date(2026, 12, 7)).for_sources([RECORD])
    assert note.status == "受付終了" and note.program == DETAIL["title"]
    assert note.deadline.source == RECORD and "2026年11月30日 17:00" in note.deadline.value  # JST
    assert note.link == "https://www.jgrants-portal.go.jp/grants/view/a0W5h00000ZzXyAAB"
    assert note.lines == (f"受付期間: {note.deadline.value}",) and note.title == "販路開拓補助金（jGrants）"
    assert note.text().startswith(f"{DETAIL['title']}：受付終了（受付期間・締切: 2026年11月1日")


def test_the_call_of_an_attached_公募要領_is_found_through_the_manifest_and_said_once(tmp_path):
    notes = notes_for(tmp_path, datetime.date(2026, 11, 10))
    [note] = notes.for_sources([GUIDELINES, RECORD, GUIDELINES])
    assert note.status == "受付中" and note.deadline.source == RECORD
    assert notes.for_sources(["other.txt"]) == []


def test_a_call_not_open_yet_is_said_to_be_coming(tmp_path):
    [note] = notes_for(tmp_path, datetime.date(2026, 10, 20)).for_sources([GUIDELINES])
    assert note.status == "公募予定"


def test_a_list_of_open_calls_with_none_open_for_the_asked_area_and_size_says_so(tmp_path):
    """Nothing open today for the place and size asked: said plainly (passages cannot say what is open today),
    naming the conditions read; a call for the asked prefecture, open today, is listed."""
    from bot.catalogue_answers import CatalogueAnswers

    notes_for(tmp_path, datetime.date(2026, 11, 10))  # writes the record
    text = (tmp_path / RECORD).read_text(encoding="utf-8")
    doc = Document(source=RECORD, title="", lines=tuple(text.splitlines()), content_hash="")
    catalogue = Catalogue(jgrants_call.programs(doc, Glossary()))
    answers = CatalogueAnswers(catalogue, tmp_path, today=lambda: datetime.date(2026, 11, 10))
    none = answers.table(answers.parse("福岡県で従業員10人、今申請できる補助金は？"), [])
    assert none is not None and none.refused and not none.citations
    assert "福岡" in none.answer and "受付中" in none.answer and "見つかりませんでした" in none.answer
    found = answers.table(answers.parse("佐賀県で今申請できる補助金は？"), [])
    assert found is not None and not found.refused and DETAIL["title"] in found.answer
