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
    ("（1）研究開発税制等", 4), ("26.1%", None), ("支援する。", None),
])
def test_heading_levels(line, level):
    assert heading_level(line, None) == level


def test_passage_ids_are_stable():
    doc = doc_of("第1節 支援\n本文です。")
    assert [p.id for p in chunk(doc)] == [p.id for p in chunk(doc)]


def test_chart_axis_labels_are_not_headings():
    assert heading_level("(8) (7) (6) (5) (4)", None) is None
    assert heading_level("第 1 章", None) == 1
