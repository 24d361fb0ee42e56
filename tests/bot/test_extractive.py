"""Pure helpers of the extractive answerer (no index needed)."""

from bot.answerers.extractive import _cut_off, aspect_terms, asked_aspects, question_parts


def test_question_parts_split_separate_questions():
    assert question_parts("下請Gメンは何名に増やすの？ヒアリングの回数の目標は？") == [
        "下請Gメンは何名に増やすの?", "ヒアリングの回数の目標は?"]
    assert len(question_parts("「二重債務問題」とは何ですか？また相談窓口はどこですか？")) == 2
    assert len(question_parts("When did it begin shared use, and how did it perform?")) == 2
    assert question_parts("資本金又は従業員数、または売上高の基準は？") == ["資本金又は従業員数、または売上高の基準は?"]


def test_aspect_terms_name_what_is_asked():
    assert {"上限額", "上限"} <= aspect_terms("Go-Tech事業の令和6年度の補助上限額を教えてください。")
    assert "count" in asked_aspects("ものづくり日本大賞はこれまで何回開催され")


def test_cut_off_sentences():
    assert _cut_off("イノベーション・プロデューサー（イノベＰ）実証事業で得られた知見を形式知化し、イノベＰガイドライン")
    assert not _cut_off("ＧＬ策定にあたっては、意見を集約して行う。")
    assert not _cut_off("令和6年度予算額 128億円（133億円）")


def test_zero_interest_states_a_rate():
    from bot.answerers.extractive import ASPECTS

    sentence = ASPECTS["interest"][1]
    assert sentence.search("貸付金利の当初3年間の実質無利子化の措置を講じた。")
    assert not sentence.search("優遇金利で融資する。")
