"""The 〔資料〕 line: which version of which call an answer quotes."""

from bot.attribution import source_lines
from bot.schema import Citation
from retrieval.corpus import Manifest
from retrieval.glossary import Glossary
from retrieval.search import DocumentNames

MANIFEST = """documents:
- file: old.txt
  title: みらい補助金2024 公募要領（一般枠）
  kind: 公募要領
  program: みらい補助金2024
  track: 一般枠
  date: '2024-04-01'
- file: new.txt
  title: みらい補助金2025 公募要領（一般枠）
  kind: 公募要領
  program: みらい補助金2025
  track: 一般枠
  date: '2025-04-01'
- file: other.txt
  title: みらい補助金2025 公募要領（連携枠）
  kind: 公募要領
  program: みらい補助金2025
  track: 連携枠
- file: sheet.txt
  title: 令和7年度 予算PR資料
"""


def _cite(n: int, source: str) -> Citation:
    return Citation(n=n, source=source, title=source, section="", start_line=1, end_line=1, text="…")


def _names(tmp_path) -> tuple[Manifest, DocumentNames]:
    (tmp_path / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    manifest = Manifest.load(tmp_path)
    return manifest, DocumentNames.of(manifest, Glossary())


def test_each_quoted_call_is_named_with_its_version_at_its_first_citation(tmp_path):
    manifest, names = _names(tmp_path)
    lines = source_lines([_cite(1, "new.txt"), _cite(2, "sheet.txt"), _cite(3, "new.txt"), _cite(4, "other.txt")],
                         manifest, names)
    assert lines == ["〔資料〕「みらい補助金2025 公募要領（一般枠）」（2025年4月1日版）より[1]",
                     "〔資料〕「みらい補助金2025 公募要領（連携枠）」より[4]"]  # no date in the manifest: none said


def test_an_older_version_says_a_newer_one_exists(tmp_path):
    manifest, names = _names(tmp_path)
    [line] = source_lines([_cite(1, "old.txt")], manifest, names)
    assert line.startswith("〔資料〕「みらい補助金2024 公募要領（一般枠）」（2024年4月1日版）より")
    assert "新しい版があります: 「みらい補助金2025 公募要領（一般枠）」（2025年4月1日版）" in line and line.endswith("[1]")


def test_documents_without_an_identity_get_no_line(tmp_path):
    manifest, names = _names(tmp_path)
    assert source_lines([_cite(1, "sheet.txt"), _cite(2, "unknown.txt")], manifest, names) == []


def test_the_real_calls_are_named_as_advisor_add_read_them(realdocs_corpus):
    manifest = Manifest.load(realdocs_corpus)
    names = DocumentNames.of(manifest, Glossary.load(realdocs_corpus / "glossary.yaml"))
    [line] = source_lines([_cite(1, "it2025_koubo_tsujyo.txt")], manifest, names)
    assert line == "〔資料〕「IT導入補助金2025 公募要領（通常枠）」（2025年3月24日版）より[1]"
