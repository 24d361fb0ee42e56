import pytest

from retrieval.text import (
    add_year_aliases,
    canonical_numbers,
    fact_present,
    first_fiscal_year,
    nfkc,
    split_sentences,
    squash,
    tokenize,
    yen_amounts,
)


def test_nfkc_folds_full_width_and_radicals():
    assert nfkc("２／３以内") == "2/3以内"
    assert nfkc("中⼩企業") == "中小企業"  # Kangxi radical U+2F29
    assert nfkc("成⻑型") == "成長型"  # CJK radical supplement, not mapped by NFKC itself


def test_squash_removes_white_space():
    assert squash("補助 上限額\n４，５００万円") == "補助上限額4,500万円"


@pytest.mark.parametrize("text, alias", [
    ("令和6年度予算額", "2024年度"), ("令和元年", "2019年"), ("平成30年度", "2018年度"),
    ("2024年度", "令和6年度"), ("R2年度", "2020年度"), ("H30年度", "2018年度"),
])
def test_year_aliases(text, alias):
    assert alias in add_year_aliases(nfkc(text))


@pytest.mark.parametrize("text, year", [
    ("令和６年度の新規事業は？", "令和6年度"), ("2024年度に始まった事業", "令和6年度"), ("R5年度補正", "令和5年度"),
    ("令和元年の制度", "令和元年度"), ("2000年の資料", "平成12年度"), ("1980年に創業", None), ("新規の事業は？", None),
])
def test_the_first_fiscal_year_a_text_names_in_the_documents_form(text, year):
    assert first_fiscal_year(text) == year


def test_year_alias_not_applied_twice():
    out = add_year_aliases("令和6年度")
    assert out.count("2024年度") == 1 and out.count("令和6年度") == 1


def test_canonical_numbers():
    assert canonical_numbers("4,500万円") == "4500万円"
    assert canonical_numbers("3分の2") == "2/3"


@pytest.mark.parametrize("text, yen", [
    ("1,942.3億円", 194_230_000_000), ("4,500万円", 45_000_000), ("1億5千万円", 150_000_000), ("450万円", 4_500_000),
])
def test_yen_amounts(text, yen):
    assert yen_amounts(text) == [yen]


@pytest.mark.parametrize("fact, text", [
    ("2/3", "補助率は２／３以内"), ("2/3", "補助率は3分の2以内"), ("4,500万円", "上限4500万円"),
    ("R2", "令和2年度補正"), ("H30", "平成30年度"), ("2024年度", "令和6年度予算"), ("1.2億円", "1億2000万円を計上"),
    ("2 分の 1", "2分の1に軽減"),
    ("2024年3月末", "貸付制度は2024年3月末まで"), ("令和元年4月", "令和元年4月より開始"),
    ("2024年3月末", "令和6年3月末まで"),
])
def test_fact_present_accepts_equivalent_forms(fact, text):
    assert fact_present(fact, text)


@pytest.mark.parametrize("fact, text", [("2/3", "補助率1/2"), ("4,500万円", "450万円"), ("令和5年度", "令和6年度")])
def test_fact_present_rejects_other_values(fact, text):
    assert not fact_present(fact, text)


def test_split_sentences_keeps_punctuation():
    assert split_sentences("支援する。対象は中小企業。") == ["支援する。", "対象は中小企業。"]


def test_tokenize_uses_normalised_forms_and_drops_particles():
    tokens = tokenize("サポイン事業の補助上限額は？")
    assert "サポイン" in tokens and "上限額" in tokens
    assert "の" not in tokens and "は" not in tokens
    assert tokenize("申し込み") == tokenize("申込み")


def test_tokenize_drops_grammatical_verbs():
    assert tokenize("補助率はどうなっていますか？教えてください。") == tokenize("補助率")


def test_answer_units_split_lines_and_sentences():
    from retrieval.text import answer_units

    assert answer_units("中小企業を支援する。対象は中小企業。\n・補助率 2/3\nあ\n短い。") == [
        "中小企業を支援する。", "対象は中小企業。", "・補助率 2/3"]


def test_tokenize_keeps_latin_words_and_drops_english_function_words():
    assert tokenize("How does the IT support work?") == ["it", "support", "work"]
    assert "サポート" not in tokenize("support")


def test_answer_units_split_items_a_line_runs_together():
    from retrieval.text import answer_units

    units = answer_units("〇補助上限額：（通常枠）単年4,500万円、３年間9,750万円〇補助率：（中小企業者等）原則2/3以内")
    assert units == ["〇補助上限額：（通常枠）単年4,500万円、３年間9,750万円", "〇補助率：（中小企業者等）原則2/3以内"]


def test_tokenize_reads_a_leading_zero_sign_as_a_bullet():
    assert "上限額" in tokenize("〇補助上限額：単年4,500万円")
    assert "2020" in tokenize("二〇二〇年")


def test_pronouns_and_honorific_prefix_are_not_content_words():
    from retrieval.text import tokenize

    tokens = tokenize("これからお店を始めたいけど、それでもご相談できる？")
    assert "店" in tokens and "相談" in tokens
    assert not {"此れ", "其れ", "御"} & set(tokens)
