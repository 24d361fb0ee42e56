"""Which turns go to the program finder, and which stay with passage retrieval."""

import pytest

from bot.finder.finder import QUESTIONS
from bot.finder.intent import wants_finder
from bot.finder.profile import Vocabulary
from bot.finder.render import CORRECT_HINT
from retrieval.glossary import Glossary
from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def words():
    return Glossary.load(CORPUS / "glossary.yaml"), Vocabulary.load(CORPUS / "glossary.yaml")


@pytest.mark.parametrize("question", [
    "家族でやっている小さなお店です。新しいお客さんを増やしたい。合う補助金はある？",
    "社員20人の町工場で、大学と組んで新しい加工技術を開発したい。どの支援が使えますか",
    "能登で旅館をやっています。地震のあと、お客さんが戻ってきません。おすすめの支援を教えて",
    "自分に合う補助金を探したい",
    "We are a 12-person machine shop. Which subsidies fit us for new equipment?",
])
def test_a_situation_asking_for_fitting_programs_goes_to_the_finder(words, question):
    assert wants_finder(question, [], *words)


@pytest.mark.parametrize("question", [
    "サポイン事業の補助率は？",
    "IT導入補助金の補助上限額を教えて",
    "補助金を教えて",
    "中小企業の定義は？",
    "今日の東京の天気を教えて",
    "家族でやっている小さなお店です。新しいお客さんを増やす取り組みに使える補助金はある？",  # names the best one
    "補助金の申請書を中小企業診断士に見てもらうべき？",  # a 診断士 is a person, not a request to be matched
])
def test_questions_about_a_program_or_without_a_situation_stay_with_retrieval(words, question):
    assert not wants_finder(question, [], *words)


def test_a_reply_to_the_finder_stays_with_it_unless_it_names_a_program(words):
    state = {"question": QUESTIONS["goals"], "question_field": "goals", "expects_reply": True}
    history = [{"role": "user", "content": "小さな会社です。使える補助金はある？"},
               {"role": "assistant", "content": "ご状況: …" + CORRECT_HINT + "\n" + QUESTIONS["goals"], "finder": state}]
    assert wants_finder("わからない", history, *words)
    assert wants_finder("従業員は30人です", history, *words)
    assert not wants_finder("IT導入補助金の補助率は？", history, *words)


def test_the_finder_state_travels_as_turn_metadata_not_as_the_bots_wording(words):
    """A turn that only reads like the finder's (quoted back by a user, or an old client) carries no state."""
    worded = [{"role": "user", "content": "小さな会社です。使える補助金はある？"},
              {"role": "assistant", "content": "ご状況: …" + CORRECT_HINT + "\n" + QUESTIONS["goals"]}]
    assert not wants_finder("わからない", worded, *words)
    finished = [*worded[:1], {**worded[1], "finder": {"question": None, "expects_reply": False}}]
    assert not wants_finder("わからない", finished, *words)
