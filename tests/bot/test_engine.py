import re

import pytest

from bot.engine import REFUSAL, QuestionError
from retrieval.text import fact_present, squash
from tests.conftest import CORPUS


def assert_cited_text_at_lines(citation):
    lines = (CORPUS / citation.source).read_text(encoding="utf-8").splitlines()
    assert squash(citation.text) == squash("\n".join(lines[citation.start_line - 1:citation.end_line]))


def test_answer_cites_the_passages_it_quotes(advisor):
    answer = advisor.ask("サポイン事業の補助上限額と補助率は？")
    assert not answer.refused
    assert fact_present("4,500万円", answer.answer) and fact_present("2/3", answer.answer)
    assert len(answer.retrieved) >= 10 and answer.citations
    for line in answer.answer.splitlines():
        assert line.rstrip().endswith("]"), f"sentence without a citation marker: {line}"
    for c in answer.citations:
        assert f"[{c.n}]" in answer.answer
        assert_cited_text_at_lines(c)
    for sentence_line in answer.answer.splitlines():
        n = int(sentence_line.rsplit("[", 1)[1].rstrip("]"))
        cited = next(c for c in answer.citations if c.n == n)
        quoted = re.sub(r"^〔[^〕]*〕", "", sentence_line.rsplit("[", 1)[0])  # a program label may lead
        assert squash(quoted) in squash(cited.text)  # extractive: quoted verbatim
    assert set(answer.timings_ms) == {"retrieve", "answer"}


@pytest.mark.parametrize("question", [
    "東京都の飲食店向けの家賃補助はいくらまで出ますか？",
    "サポイン事業の公募の締切日はいつですか？",
    "How do I bake sourdough bread?",
    "今日の東京の天気を教えて",
    "人材確保等支援助成金は、1事業主あたりいくら支給されますか？",  # per-unit amount: no document gives one
    "2020年度の技能検定の受検者数と合格者数はそれぞれ何人でしたか？",  # counts of what no document counts
])
def test_out_of_scope_questions_are_refused(advisor, question):
    answer = advisor.ask(question)
    assert answer.refused and answer.answer == REFUSAL and answer.citations == []
    assert "よろず支援拠点" in answer.answer


def test_a_refusal_names_what_no_document_mentions(advisor):
    """A program, quoted term or support-giving town the documents never mention is named in the refusal."""
    answer = advisor.ask("海洋資源開発推進補助金の補助上限額は？")
    assert answer.refused and answer.citations == []
    assert answer.answer.startswith("登録されている資料には「海洋資源開発推進補助金」についての記載がありません。")
    assert "よろず支援拠点" in answer.answer
    town = advisor.ask("山田町独自の店舗改装の助成はありますか？")
    assert town.refused and "「山田町」" in town.answer


def test_followup_uses_the_conversation(advisor):
    first_q = "成長型中小企業等研究開発支援事業（Go-Tech事業）の令和6年度予算額はいくらですか？"
    first = advisor.ask(first_q)
    assert not first.refused
    history = [{"role": "user", "content": first_q}, {"role": "assistant", "content": first.answer}]
    follow = advisor.ask("その補助率は？", history=history)
    alone = advisor.ask("その補助率は？")
    assert not follow.refused
    assert any("Go-Tech" in c.section or "研究開発支援事業" in c.section for c in follow.citations)
    assert [r.source for r in follow.retrieved[:3]] != [r.source for r in alone.retrieved[:3]] or alone.refused


def test_an_off_topic_short_question_is_not_a_followup(advisor):
    first_q = "サポイン事業の補助上限額は？"
    first = advisor.ask(first_q)
    history = [{"role": "user", "content": first_q}, {"role": "assistant", "content": first.answer}]
    assert advisor.ask("今日の天気は？", history=history).refused
    assert not advisor.ask("その補助率は？", history=history).refused


def test_a_question_in_two_parts_gets_both_answered(advisor):
    history = [{"role": "user", "content": "令和6年度の中小企業取引対策事業では何をするんですか？"}]
    answer = advisor.ask("下請Gメンは何名に増やすの？ヒアリングの回数の目標は？", history=history)
    assert fact_present("330名", answer.answer) and fact_present("12,000回", answer.answer)


def test_a_cap_question_is_answered_by_the_cap_not_the_budget(advisor):
    answer = advisor.ask("成長型中小企業等研究開発支援事業（Go-Tech事業）の令和6年度の補助上限額を教えてください。")
    assert fact_present("4,500万円", answer.answer) and fact_present("9,750万円", answer.answer)


def test_stream_yields_status_deltas_citations_then_done(advisor):
    events = list(advisor.stream("IT導入補助金の補助率は？"))
    kinds = [e.type for e in events]
    assert kinds[0] == "status" and kinds[-1] == "done" and "delta" in kinds
    done = events[-1].answer
    assert "".join(e.text for e in events if e.type == "delta").strip() == done.answer.strip()
    assert [e.citation for e in events if e.type == "citation"] == done.citations


def test_each_citation_arrives_before_the_first_text_that_cites_it(advisor):
    events = list(advisor.stream("サポイン事業の補助率と補助上限額は？"))
    sent: set[int] = set()
    for event in events:
        if event.type == "citation":
            sent.add(event.citation.n)
        elif event.type == "delta":
            markers = {int(n) for n in re.findall(r"\[(\d+)\]", event.text)}
            assert markers <= sent, f"{event.text!r} cites {markers - sent} before its citation event"
    assert sent


@pytest.mark.parametrize("question, message", [("", "空"), ("   ", "空"), ("補助金" * 1000, "長すぎ")])
def test_bad_questions_get_a_clear_error(advisor, question, message):
    with pytest.raises(QuestionError, match=message):
        advisor.ask(question)


def test_which_program_answers_name_the_program(advisor):
    answer = advisor.ask("家族でやっている小さなお店です。新しいお客さんを増やす取り組みに使える補助金はある？")
    assert not answer.refused
    first = answer.answer.splitlines()[0]
    assert first.startswith("〔") and "〕" in first
    label = first[1:first.index("〕")]
    n = int(first.rsplit("[", 1)[1].rstrip("]"))
    assert label in next(c for c in answer.citations if c.n == n).section  # the label is the cited section


def test_a_program_named_in_full_is_not_answered_from_another_programs_sheet(advisor):
    # 省力化投資補助金: the documents give no cap or rate for it; the 大規模成長投資補助金 sheet (「省力化等の…」)
    # is another program.
    assert advisor.ask("省力化投資補助金（カタログ注文型）の補助上限額と補助率はいくらですか？").refused
