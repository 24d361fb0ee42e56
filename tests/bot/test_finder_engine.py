"""A whole finder conversation through the engine users meet (CLI chat, web, Slack all call it)."""

from bot.finder.finder import QUESTIONS
from bot.turns import assistant_turn, user_turn


def test_a_finder_conversation_asks_then_lists_cited_programs_then_takes_a_correction(advisor):
    first = advisor.ask("自分に合う補助金を探したい")
    assert QUESTIONS["goals"] in first.answer and first.finder["question_field"] == "goals"
    history = [user_turn("自分に合う補助金を探したい"), assistant_turn(first)]
    second = advisor.ask("社員20人の町工場です。大学と組んで新しい加工技術を開発したい", history=history)
    assert not second.refused and second.citations and second.finder["question"] is None
    profile = second.finder["profile"]
    assert profile["industry"] == "製造業" and profile["employees"] == 20
    top = second.finder["programs"][:3]
    assert any("研究開発" in n or "基盤技術高度化" in n for n in top), top
    assert "公募要領" in second.answer
    history += [user_turn("社員20人の町工場です。大学と組んで新しい加工技術を開発したい"), assistant_turn(second)]
    third = advisor.ask("研究開発ではなく、海外展開をしたいです", history=history)
    assert third.finder["profile"]["goals"][0] == "海外展開"
    assert third.finder["programs"][:3] != top


def test_questions_about_one_program_still_get_passage_answers(advisor):
    answer = advisor.ask("サポイン事業の補助上限額は？")
    assert answer.finder is None and any("4,500万円" in c.text or "4500万円" in c.text for c in answer.citations)
