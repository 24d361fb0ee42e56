"""The situation profile: what an SME's own words say about it, corrected as the conversation goes on."""


import pytest

from bot.finder.profile import Vocabulary, extract
from retrieval.text import squash
from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.load(CORPUS / "glossary.yaml")


def test_a_vague_message_gives_industry_size_goal_and_numbers(vocab):
    p = extract("社員20人の町工場で、大学と組んで新しい加工技術を開発したい", vocab)
    assert (p.industry, p.employees, p.goals) == ("製造業", 20, ["研究開発"])
    assert p.size == "中小企業" and p.size_basis == "size_table"  # 製造業: 300人以下 in the documents' table


def test_circumstance_region_and_goal_from_everyday_words(vocab):
    p = extract("震災で被害を受けた福島の店で、資金繰りが苦しい", vocab)
    assert p.region == "福島県" and p.circumstances == ["被災"] and p.goals == ["資金繰り"]
    assert p.industry == "小売業"


def test_the_size_table_uses_either_limit(vocab):
    by_capital = extract("資本金5000万円、従業員350人の部品メーカー", vocab)
    assert (by_capital.capital_yen, by_capital.employees, by_capital.size) == (50_000_000, 350, "中小企業")
    large = extract("資本金10億円、従業員500人の部品メーカー", vocab)
    assert large.size == "大企業"
    retail = extract("従業員60人の小売店です", vocab)
    assert retail.size is None  # over 50人 (小売業) with no capital given: the table cannot say yet


def test_a_correction_replaces_the_earlier_value_and_negation_takes_a_goal_back(vocab):
    p = extract("従業員20人の工場です。海外展開をしたい", vocab)
    p = extract("すみません、従業員は45人でした。海外展開ではなく省エネをしたい", vocab, p)
    assert p.employees == 45 and p.goals == ["省エネ"]


def test_i_dont_know_marks_the_asked_field_and_bare_answers_fill_it(vocab):
    p = extract("製造業です", vocab)
    p = extract("わからないです", vocab, p, asked="capital_yen")
    assert p.unknown == ["capital_yen"] and p.capital_yen is None
    p = extract("30人です", vocab, p, asked="employees")
    assert p.employees == 30


def test_english_words_and_acronyms(vocab):
    p = extract("We are a software company with 12 employees and want DX and export", vocab)
    assert p.industry == "ソフトウェア業・情報処理サービス業" and p.employees == 12
    assert p.goals == ["IT化", "海外展開"]
    assert extract("it is fine", vocab).goals == []  # English "it" is not IT


def test_nothing_said_is_an_empty_profile(vocab):
    p = extract("こんにちは", vocab)
    assert p.is_empty() and p.summary() == "（まだ何も伺っていません）"


def test_size_rules_stand_at_their_cited_lines(vocab):
    lines = (CORPUS / vocab.size_source).read_text(encoding="utf-8").splitlines()
    assert vocab.size_rules
    for rule in vocab.size_rules:
        line = squash(lines[rule.line - 1])
        assert squash(f"{rule.capital}以下") in line and squash(f"{rule.employees}以下") in line, rule
        assert any(squash(name.split("・")[0].replace("業", "")) in line for name in rule.industry), rule


def test_household_needs_are_told_apart_from_business_goals(vocab):
    p = extract("個人的なことですが、自宅を建て替えたいので住宅ローンを安く借りたい。パン屋を経営しています", vocab)
    assert p.personal == ["住まい"] and p.only_personal()
    assert not extract("パン屋です。店の改装資金を借りたい", vocab).only_personal()


def test_a_circumstance_said_not_to_apply_is_not_taken(vocab):
    p = extract("東京の小売店です。災害の被害はない", vocab)
    assert p.circumstances == [] and p.ruled_out == ["被災"] and "当てはまらない: 被災" in p.summary()
    p = extract("いえ、先月の豪雨で被災しました", vocab, p)  # said again later: taken back in
    assert p.circumstances == ["被災"] and p.ruled_out == []
    assert extract("地震で被害を受けた店です", vocab).circumstances == ["被災"]


def test_a_size_word_about_something_else_is_not_the_users_size(vocab):
    assert extract("従業員80人のスーパーです。うちは中小企業の扱いになりますか", vocab).size is None
    assert extract("中小企業向けの補助金が使えるか知りたい", vocab).size is None
    assert extract("大手の取引先から対策を求められました", vocab).size is None
    assert extract("大手メーカーや海外の企業と取引したい", vocab).size is None
    p = extract("うちは中小企業です", vocab)
    assert p.size == "中小企業" and p.size_basis == "user"


def test_goal_words_inside_a_household_need_are_not_business_goals(vocab):
    p = extract("美容室を一人でやっています。家族の入院で医療費がかかったので、確定申告で税金を取り戻したい", vocab)
    assert p.goals == [] and p.personal == ["医療費"] and p.only_personal()
    p = extract("化学メーカーです。研究開発費が増えていますが、税金の面で何か優遇はありますか", vocab)
    assert "税制優遇" in p.goals


def test_people_counted_as_family_or_craftsmen_are_the_workforce(vocab):
    assert extract("家族3人で文房具店をやっています", vocab).employees == 3
    assert extract("輪島塗の工房を職人4人でやっています", vocab).model_dump(include={"employees", "industry", "region"}) == {
        "employees": 4, "industry": "製造業", "region": "石川県（輪島）"}


def test_the_number_of_people_who_run_the_business_is_its_workforce(vocab):
    assert extract("姉と2人で営んでいる小さな雑貨店です", vocab).employees == 2
    assert extract("5名で運営している設計事務所", vocab).employees == 5
    assert extract("3人で旅行に行きたい", vocab).employees is None  # people, but not running anything
