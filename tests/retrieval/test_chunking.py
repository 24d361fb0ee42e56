from pathlib import Path

import pytest

from retrieval.chunking import chunk, heading_level
from retrieval.loaders import load
from retrieval.text import squash
from retrieval.types import Document
from tests.conftest import CORPUS

CORPUS_FILES = sorted(CORPUS.glob("*.txt"))


def doc_of(text: str, name: str = "t.txt") -> Document:
    return Document(source=name, title="T", lines=tuple(text.splitlines()), content_hash="h")


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_every_passage_is_at_its_lines(path: Path):
    """The quoted text of every passage really stands at its line range, in full and in order."""
    doc = load(path)
    passages = chunk(doc)
    assert passages
    for p in passages:
        assert 1 <= p.start_line <= p.end_line <= len(doc.lines)
        at_lines = squash("\n".join(doc.lines[p.start_line - 1:p.end_line]))
        assert squash(p.text) == at_lines, f"{p.id}: text differs from lines {p.start_line}-{p.end_line}"


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_passages_cover_the_document_without_overlap(path: Path):
    doc = load(path)
    passages = chunk(doc)
    covered = [n for p in passages for n in range(p.start_line, p.end_line + 1)]
    assert covered == sorted(set(covered))
    content = {i + 1 for i, line in enumerate(doc.lines) if line.strip()}
    assert content <= set(covered)


def test_lines_broken_inside_a_sentence_are_joined():
    doc = doc_of("第1節 支援策\n超小型衛星を多数打ち上げて一体的に運用する衛星コンステレー\n\nションの構築を支援する。\n・対象は民間企業")
    [p] = chunk(doc)
    assert "衛星コンステレーションの構築を支援する。" in p.text
    assert "\n・対象は民間企業" in p.text  # a bullet starts a new line
    assert (p.start_line, p.end_line) == (1, 5)


def test_program_name_of_a_pr_sheet_labels_all_its_passages():
    body = "\n".join(f"事業の目的その{i}を説明する文章であり、支援内容を具体的に記載している。" for i in range(30))
    doc = doc_of(f"中小企業生産性革命推進事業\n令和6年度予算額 100億円（90億円）\n{body}\n"
                 f"伝統的工芸品産業振興補助金\n令和6年度予算額 7.2億円（7.2億円）\n産地の取組を支援する。")
    passages = chunk(doc)
    assert len(passages) > 2
    assert all(p.section.startswith("中小企業生産性革命推進事業") for p in passages[:-1])
    assert passages[-1].section == "伝統的工芸品産業振興補助金"
    assert "令和6年度予算額 7.2億円" in passages[-1].text


def test_passage_size_is_bounded():
    prose = "。".join(f"第{i}の文はものづくり中小企業の研究開発支援について述べる" for i in range(200)) + "。"
    wrapped = "\n".join(prose[i:i + 40] for i in range(0, len(prose), 40))  # as PDF extraction wraps lines
    passages = chunk(doc_of(wrapped))
    assert len(passages) > 5
    assert max(len(p.text) for p in passages) <= 540


@pytest.mark.parametrize("line, level", [
    ("第１章 ものづくり基盤技術", 1), ("第2節 人材確保", 2), ("1. デジタル技術を活用するメリットとは？", 3),
    ("（1）研究開発税制等", 7), ("２－１－１ 申請の対象となる事業者", 5), ("１－２ 事業のスキーム", 4), ("【補足１】補助金の返還", 6),
    ("（通則）", None), ("(ウ) 取得していること。", None), ("26.1%", None), ("支援する。", None),
])
def test_heading_levels(line, level):
    assert heading_level(line, None) == level


def test_passage_ids_are_stable():
    doc = doc_of("第1節 支援\n本文です。")
    assert [p.id for p in chunk(doc)] == [p.id for p in chunk(doc)]


def test_chart_axis_labels_are_not_headings():
    assert heading_level("(8) (7) (6) (5) (4)", None) is None
    assert heading_level("第 1 章", None) == 1


def test_call_document_headings_and_small_units():
    """A 公募要領's numbered headings (１．/２－３/（１）/【補足】) make the heading path, and each line that states
    a fact on its own (a label-value line, a table row, a list item) is a small unit pointing to its passage."""
    from retrieval.chunking import chunk_with_units

    text = ("２．申請対象・要件\n２－３ 補助対象経費、補助率及び補助額\n"
            "補助対象経費に対して、補助率を乗じて得られた額の合計について、以下の補助額の範囲内で補助する。\n"
            "補助対象経費 補助率 補助額\nソフトウェア購入費、\n導入関連費\n１／２以内\n"
            "５万円～１５０万円未満 １プロセス以上\n１５０万円～４５０万円以下 ４プロセス以上\n"
            "【補足１】 補助対象経費の算出方法について\n・ 消費税は補助対象外とする。\n")
    passages, units = chunk_with_units(doc_of(text))
    by_id = {p.id: p for p in passages}
    row = next(u for u in units if "４５０万円以下" in u.text)
    parent = by_id[row.parent]
    assert row.text in parent.text and parent.start_line <= row.start_line <= row.end_line <= parent.end_line
    # the row keeps its heading path (NFKC) and the table's column labels
    assert row.section == "2.申請対象・要件 > 2-3 補助対象経費、補助率及び補助額 > 補助対象経費 補助率 補助額"
    assert row.text == "１５０万円～４５０万円以下 ４プロセス以上"  # one row, one unit: rows are not run together
    assert all(u.parent in by_id for u in units)


def test_rows_of_a_list_are_not_headings():
    """Several 【…】 lines one after another are rows of a timeline, not nested headings."""
    assert heading_level("【法】中小企業基本法(1963)", "【補助】技術改善費補助金(1967-)") is None
    assert heading_level("【補足１】 補助対象経費の算出方法について", "・ 消費税は補助対象外とする。") == 6


def test_a_caption_in_brackets_is_not_a_small_unit():
    from retrieval.chunking import _is_unit

    assert not _is_unit("（ＩＴツールの登録）")
    assert not _is_unit("【補助対象経費の考え方】")
    assert _is_unit("（１） 補助上限額は３００万円とする。")
    assert _is_unit("申請受付締切：２０２５年７月２５日（金）")


def test_field_lines_of_a_record_stay_apart_while_a_broken_sentence_is_joined():
    lines = ("【jGrants公募情報】令和8年度 福岡県デジタル化支援補助金", "受付期間: 2026年12月1日 0:00 ～ 2027年1月29日 17:00",
             "対象地域の詳細: 県内に本社又は主たる事業所を有すること", "対象従業員数: 20名以下",
             "本事業は県内の中小企業が行うデジタル化の取組に要する経費の",
             "一部を補助するものです。")
    [p] = chunk(Document(source="r.txt", title="", lines=lines, content_hash=""), max_chars=2000, min_chars=10)
    text = p.text.split("\n")
    assert "対象地域の詳細: 県内に本社又は主たる事業所を有すること" in text and "対象従業員数: 20名以下" in text
    assert "本事業は県内の中小企業が行うデジタル化の取組に要する経費の一部を補助するものです。" in text
