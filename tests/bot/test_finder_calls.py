"""The finder over the catalogue of the seeds plus real 公募要領: a situation that fits one 申請枠 lists it first."""

import pytest

from bot.finder.finder import Finder
from bot.finder.profile import Vocabulary
from retrieval.catalogue import build


@pytest.fixture(scope="module")
def finder(realdocs_corpus) -> Finder:
    catalogue, _ = build(realdocs_corpus)
    return Finder(catalogue.programs, Vocabulary.load(realdocs_corpus / "glossary.yaml"), realdocs_corpus)


@pytest.mark.parametrize("situation, frame", [
    ("従業員5人の飲食店です。会計ソフトとレジを入れてインボイスに対応したい", "インボイス対応類型"),
    ("社員20人の製造業。ウイルス対策などサイバーセキュリティを強化したい", "セキュリティ対策推進枠"),
    ("商店街の10店舗で一緒にキャッシュレス決済システムを導入したい", "複数社連携IT導入枠"),
])
def test_the_fitting_frame_comes_first_with_cited_reasons(finder, situation, frame):
    result = finder.find(situation, ask=False)
    first = result.programs[0]
    assert first.name == f"IT導入補助金2025（{frame}）"
    assert first.reasons and all(r.citations for r in first.reasons)
    assert all(c.source.startswith("it2025_koubo_") for r in first.reasons for c in r.citations)
