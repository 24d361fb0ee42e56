"""List, filter and comparison questions answered from the catalogue: a table whose every cell is cited."""

import re

from bot.engine import Advisor
from tests.bot.test_cli import check_shapes

_CELL_MARK = re.compile(r"\[(\d+)\]")


def table_rows(text: str) -> list[list[str]]:
    rows = [ln for ln in text.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in r.strip("|").split("|")] for r in rows[2:]]


def test_comparison_is_a_cited_table(advisor):
    answer = advisor.ask("ものづくり補助金とIT導入補助金の違いは？")
    assert not answer.refused
    rows = table_rows(answer.answer)
    assert len(rows) == 2
    assert "ものづくり補助金" in rows[0][0] and "IT導入補助金" in rows[1][0]
    header = answer.answer.splitlines()[2]
    assert all(label in header for label in ("予算額", "対象者", "補助率", "補助上限", "支援内容"))
    numbers = {c.n for c in answer.citations}
    for row in rows:
        for cell in row:
            assert cell == "記載なし" or _CELL_MARK.search(cell), cell  # every stated cell carries its [n]
            assert all(int(n) in numbers for n in _CELL_MARK.findall(cell))
    assert "2/3" in answer.answer and "450万円" in answer.answer
    assert len(answer.retrieved) >= 10
    check_shapes("ask", answer.model_dump_json())  # each citation's text stands at its lines


def test_asked_fields_become_the_columns(advisor):
    answer = advisor.ask("持続化補助金とIT導入補助金の補助率を比較して")
    header = answer.answer.splitlines()[2]
    assert header.count("|") == 3 and "補助率" in header
    assert "3/4" in answer.answer and "2/3" in answer.answer


def test_list_with_filters(advisor):
    answer = advisor.ask("令和6年度の新規事業は？")
    rows = table_rows(answer.answer)
    assert len(rows) >= 3
    budget = answer.answer.splitlines()[2].split("|").index(" 予算額 ") - 1
    assert all("（新規）" in r[budget] and "令和6年度" in r[budget] for r in rows)
    names = " ".join(r[0] for r in rows)
    assert "航空機向け革新的推進システム開発事業" in names and "中小企業等海外展開支援事業" in names


def test_topic_list(advisor):
    answer = advisor.ask("宇宙関連の事業にはどんなものがありますか")
    names = " ".join(r[0] for r in table_rows(answer.answer))
    assert "宇宙産業技術情報基盤整備研究開発事業" in names and "宇宙戦略基金事業" in names


def test_other_questions_keep_passage_answers(advisor):
    for q in ("IT導入補助金の補助率は？", "サポイン事業の補助上限額は令和元年度からどのように柔軟化されましたか？",
              "65歳超雇用推進助成金は、どのような取組を行う事業主を対象としていますか？"):
        assert "|---" not in advisor.ask(q).answer, q


def test_follow_up_uses_the_programs_of_the_comparison(advisor):
    first = "ものづくり補助金とIT導入補助金の違いは？"
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": advisor.ask(first).answer}]
    answer = advisor.ask("それぞれの補助上限は？", history=history)
    rows = table_rows(answer.answer)
    assert len(rows) == 2 and "補助上限" in answer.answer.splitlines()[2]


def test_setting_turns_catalogue_answers_off(corpus_settings):
    off = Advisor(corpus_settings.model_copy(update={"catalogue_answers": False}))
    assert "|---" not in off.ask("ものづくり補助金とIT導入補助金の違いは？").answer


def test_stream_sends_each_citation_before_its_marker(advisor):
    seen: set[int] = set()
    for event in advisor.stream("Go-Tech事業とよろず支援拠点事業の予算額の違いは？"):
        if event.type == "citation":
            seen.add(event.citation.n)
        elif event.type == "delta":
            assert all(int(n) in seen for n in _CELL_MARK.findall(event.text))


def test_a_comparison_asking_more_than_the_fields_adds_passages(advisor):
    q = "日本政策金融公庫の「平成30年7月豪雨特別貸付」と「令和元年台風第19号等特別貸付」の2021年3月末までの貸付実績を比較してください。"
    answer = advisor.ask(q)
    assert "|---" in answer.answer and "資料の関連する記載" in answer.answer
    assert "1,600" in answer.answer  # the 貸付実績 comes from the passages, not from the catalogue
    numbers = [c.n for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    assert {int(n) for n in _CELL_MARK.findall(answer.answer)} <= set(numbers)
    check_shapes("ask", answer.model_dump_json())


def test_a_list_is_of_programs_only_when_the_question_says_programs():
    """「…の対象外経費を一覧で」 or "list the costs" asks for a list inside one program's document."""
    from bot.catalogue_answers import _LIST_RE

    for q in ("蓄電池に関する事業を一覧にして", "観光関連の事業の予算額を一覧で", "list the programs for startups"):
        assert _LIST_RE.search(q), q
    for q in ("ものづくり補助金の対象外経費を一覧で", "Which costs are not eligible? Please list the main ones."):
        assert not _LIST_RE.search(q), q
