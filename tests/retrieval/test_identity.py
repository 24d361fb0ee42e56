"""What a document says it is: program, 枠, round, date, from its cover and 改訂履歴."""


import pytest

from retrieval.identity import read_identity
from retrieval.loaders import load
from retrieval.text import dates_in
from tests.conftest import REALDOCS


def test_cover_names_program_track_and_kind():
    lines = ["", "Ｉ Ｔ 導 入 補 助 金 ２ ０ ２ ６ 公募要領", "（省力化枠）", "", "第３次公募", "２０２６年１月５日",
             "改訂履歴", "２０２６年２月１日", "・「３－１」の記載を修正"]
    found = read_identity(lines)
    assert (found.program, found.track, found.kind, found.round, found.date) == (
        "IT導入補助金2026", "省力化枠", "公募要領", "第3次", "2026-02-01")
    assert found.label() == "IT導入補助金2026 公募要領（省力化枠） 第3次"


def test_dates_inside_sentences_and_budget_rounds_are_not_identity():
    lines = ["令和２年度第３次補正予算 事業PR資料", "申請は２０２８年３月３１日までに行うこと。"]
    found = read_identity(lines)
    assert (found.round, found.date, found.kind) == ("", "", "")


def test_dates_in_reads_western_japanese_and_slashed_dates():
    assert [d.isoformat() for d in dates_in("令和７年（２０２５年）３月１８日、2025/5/12、令和元年5月1日")] == [
        "2025-03-18", "2025-05-12", "2019-05-01"]


@pytest.mark.skipif(not REALDOCS.is_dir(), reason=f"the real 公募要領 are not beside the checkout ({REALDOCS})")
@pytest.mark.pdf
@pytest.mark.parametrize("name, program, track, date", [
    ("it2025_koubo_tsujyo.pdf", "IT導入補助金2025", "通常枠", "2025-03-24"),
    ("it2025_koubo_invoice.pdf", "IT導入補助金2025", "インボイス対応類型", "2025-03-24"),
    ("it2025_koubo_security.pdf", "IT導入補助金2025", "セキュリティ対策推進枠", "2025-06-03"),
    ("it2025_kitei_tsujyo.pdf", "サービス等生産性向上IT導入支援事業費補助金", "通常枠", "2025-03-18"),
])
def test_real_documents_identify_themselves(name, program, track, date):
    found = read_identity(load(REALDOCS / name).lines)
    assert (found.program, found.track, found.date) == (program, track, date)
