"""Pure helpers of the extractive answerer (no index needed)."""

from bot.answerers.extractive import _cut_off, asked_aspects, aspect_terms, question_parts


def test_question_parts_split_separate_questions():
    assert question_parts("下請Gメンは何名に増やすの？ヒアリングの回数の目標は？") == [
        "下請Gメンは何名に増やすの?", "ヒアリングの回数の目標は?"]
    assert len(question_parts("「二重債務問題」とは何ですか？また相談窓口はどこですか？")) == 2
    assert len(question_parts("When did it begin shared use, and how did it perform?")) == 2
    assert question_parts("資本金又は従業員数、または売上高の基準は？") == ["資本金又は従業員数、または売上高の基準は?"]


def test_aspect_terms_name_what_is_asked():
    assert {"上限額", "上限"} <= aspect_terms("Go-Tech事業の令和6年度の補助上限額を教えてください。")
    assert "count" in asked_aspects("ものづくり日本大賞はこれまで何回開催され")
    # what something costs is an amount; how much support comes may be an amount or a rate, so it is not one
    assert "amount" in asked_aspects("専門家に頼むと報酬の相場は？")
    assert "amount" in asked_aspects("申請の代行を頼むとどれくらいかかる？")
    assert "amount" not in asked_aspects("国はどのくらい補助してくれますか")
    # asking which papers, not asking something about papers
    assert "documents" in asked_aspects("申請のときどんな書類を用意すればいい？")
    assert "documents" in asked_aspects("提出書類は何ですか")
    assert "documents" not in asked_aspects("領収書などの書類は何年保管すればいい？")
    assert "documents" in asked_aspects("補助金の申込みに必要となる書類は？")
    # when applications open is asked as a date; when to start one's own project is not
    assert "opening" in asked_aspects("で、いつから申し込めるんですか")
    assert "opening" in asked_aspects("公募開始はいつですか")
    assert "opening" not in asked_aspects("事業はいつから始めればいい？")
    # how many groups is a count; 「何台か」 is "a few", not a question of how many
    assert "count" in asked_aspects("連携したのは何グループ？")
    assert "count" not in asked_aspects("レジ端末を何台か入れ替えたい")


def test_a_fee_asked_by_the_month_needs_a_monthly_figure():
    from bot.answerers.extractive import ExtractiveAnswerer, _Candidate

    def states(text: str, question: str) -> frozenset[str]:
        return ExtractiveAnswerer._states(_Candidate(text, 0, 0, 0.5, 1.0, frozenset(), frozenset({"amount"})),
                                          question)

    assert "amount" not in states("補助額は５万円～１５０万円とする。", "そのサービスは月いくら？")
    assert "amount" in states("利用料は月額１万円程度。", "そのサービスは月いくら？")
    assert "amount" in states("補助額は５万円～１５０万円とする。", "補助額はいくら？")


def test_a_program_nickname_with_a_kana_stem_still_names_a_program():
    from retrieval.glossary import names_kana_program

    assert names_kana_program("まちづくり助成金の上限は？")
    assert not names_kana_program("市から給付金をもらえると聞いた")
    assert not names_kana_program("IT導入補助金の上限は？")  # program_names reads this one


def test_cut_off_sentences():
    assert _cut_off("イノベーション・プロデューサー（イノベＰ）実証事業で得られた知見を形式知化し、イノベＰガイドライン")
    assert not _cut_off("ＧＬ策定にあたっては、意見を集約して行う。")
    assert not _cut_off("令和6年度予算額 128億円（133億円）")


def test_an_acceptance_rate_is_stated_only_with_its_figure():
    from bot.answerers.extractive import ASPECTS

    sentence = ASPECTS["acceptance"][1]
    assert sentence.search("第5回公募の採択率は約36％であった。")
    assert sentence.search("申請の3割弱（28.6%）が採択された。")
    assert sentence.search("倍率は約3倍となった。")
    assert not sentence.search("審査を通じて採択率の向上を図る。")


def test_zero_interest_states_a_rate():
    from bot.answerers.extractive import ASPECTS

    sentence = ASPECTS["interest"][1]
    assert sentence.search("貸付金利の当初3年間の実質無利子化の措置を講じた。")
    assert not sentence.search("優遇金利で融資する。")


def test_next_numbered_item_and_running_definition():
    from bot.answerers.extractive import _defines, _next_item

    assert _next_item("①工作機械の国内生産能力を2025年時点で約8万台、2030年度時点で約11万台に強化。",
                      "②産業用ロボットの国内生産能力を、2025年時点で約26万台、2030年時点で約35万台に強化。")
    assert not _next_item("①工作機械の国内生産能力を2025年時点で約8万台に強化。", "③成長・挑戦への支援")
    assert not _next_item("①成長・挑戦への支援", "②事業継続への支援、地域経済活性化への貢献により336万者を支援する。")
    assert _defines("※サポインとは、サポーティング・インダストリーの略。",
                    "組み立てや完成品を製造する産業に部品等の基盤的な製品や技術サービスを提供する裾野産業のこと。")
    assert not _defines("サポイン事業の補助率は2/3。", "裾野産業のこと。")


def test_a_tagged_sheet_is_a_variant_only_beside_its_untagged_sheet():
    from bot.answerers.extractive import _variant
    from retrieval.types import Hit, Passage

    def hit(section: str) -> Hit:
        return Hit(passage=Passage(id=section, source="x.txt", title="", section=section, start_line=1, end_line=1,
                                   text="", norm=""), score=1.0)

    tagged, plain = hit("独立行政法人中小企業基盤整備機構運営費交付金【復興】"), hit("独立行政法人中小企業基盤整備機構運営費交付金事業")
    question = "独立行政法人中小企業基盤整備機構運営費交付金事業（令和6年度）は、どのような柱で事業を実施しますか？"
    assert _variant(tagged, question, [tagged, plain])
    assert not _variant(plain, question, [tagged, plain])
    assert not _variant(tagged, question, [tagged])  # no untagged sheet retrieved: the tagged one is the program
    assert not _variant(tagged, "中小企業基盤整備機構運営費交付金【復興】の予算は？", [tagged, plain])


def test_definition_questions_name_the_term_defined():
    from bot.answerers.extractive import ASPECTS, defined_terms

    assert "definition" in asked_aspects('What does "Sapoin" (サポイン) in the program name stand for?')
    assert defined_terms('What does "Sapoin" (サポイン) in the program name stand for?') == ("Sapoin", "サポイン")
    assert defined_terms("産業サイバーセキュリティ強靱化事業で活用を推進している「SBOM」とは何ですか。") == ("SBOM",)
    assert defined_terms("サポイン事業の補助率は？") == ()
    assert ASPECTS["definition"][1].search("※サポインとは、サポーティング・インダストリーの略。")


def test_a_line_that_heads_bullet_items():
    from bot.answerers.extractive import _heads_items

    assert _heads_items("②特許料及び特許審査請求料の軽減認定計画の成果を特許化する場合の費用を減免する")
    assert not _heads_items("・特許審査請求料の半減")
    assert not _heads_items("認定計画の成果を特許化する場合の費用を減免する。")


def _answerer_over(texts: list[str]):
    """An extractive answerer over these passages (one hit each), with every word of them known."""
    from bot.answerers.extractive import ExtractiveAnswerer
    from retrieval.text import tokenize
    from retrieval.types import Hit, Passage

    vocabulary = {t for text in texts for t in tokenize(text)}
    hits = [Hit(passage=Passage(id=f"p{i}", source="call.txt", title="ものづくり支援補助金 公募要領", section="",
                                start_line=i + 1, end_line=i + 1, text=text, norm=text), score=1.0 - i / 10)
            for i, text in enumerate(texts)]
    return ExtractiveAnswerer(idf=lambda t: 2.0, known=lambda t: t in vocabulary, narrowing=("平均",)), hits


def test_a_cap_does_not_answer_a_question_about_a_narrower_figure():
    """The words narrowing the asked fact (an average, not a cap) must be stated with the figure."""
    from retrieval.search import Query

    answerer, hits = _answerer_over(["ものづくり支援補助金の交付額の上限は３００万円とする。",
                                     "申請者の従業員の平均年齢を記載すること。"])
    narrow = answerer.answer(Query("ものづくり支援補助金の平均交付額はいくらですか？"), hits)
    assert narrow.refused and "amount" in narrow.reason
    plain = answerer.answer(Query("ものづくり支援補助金の交付額の上限はいくらですか？"), hits)
    assert not plain.refused and "３００万円" in plain.sentences[0].text


def test_a_question_in_days_needs_a_figure_in_days():
    from retrieval.search import Query

    months = ["ものづくり支援補助金の補助事業期間は交付決定日から６ヶ月間程度とする。"]
    question = Query("ものづくり支援補助金は実績報告から入金まで何日かかりますか？")
    answerer, hits = _answerer_over(months)
    assert answerer.answer(question, hits).refused
    answerer, hits = _answerer_over([*months, "ものづくり支援補助金の入金は実績報告の受理から３０日以内に行う。"])
    draft = answerer.answer(question, hits)
    assert not draft.refused and any("３０日以内" in s.text for s in draft.sentences)


def test_a_title_line_is_not_quoted():
    from bot.answerers.extractive import _names_only
    from retrieval.text import tokenize

    naming = set(tokenize("IT導入補助金2025 公募要領（通常枠）\nIT導入補助金2025（通常枠） > 1.事業の概要"))
    assert _names_only("ＩＴ導入補助金２０２５ 公募要領（通常枠）", naming)
    assert not _names_only("ＩＴ導入補助金２０２５の補助率は１／２以内とする。", naming)


def test_a_list_asked_for_by_its_heading_is_quoted_whole():
    """The section whose heading is what the question asks to list gives every item, in order."""
    from bot.answerers.extractive import ExtractiveAnswerer
    from retrieval.search import Query
    from retrieval.text import tokenize
    from retrieval.types import Hit, Passage

    items = ["（３） 申請できない事業者", "① 風俗営業を営む者。", "② 過去に補助金の不正受給があった者。",
             "（不正が確認された日から５年以内に限る。）", "③ 税を滞納している者。"]
    other = "本補助金は、地域の商店が行う販路開拓を支援するものである。申請者は計画書を提出すること。"
    passages = [Passage(id="a", source="k.txt", title="商店支援補助金 公募要領", section="商店支援補助金 > 1.概要",
                        start_line=1, end_line=1, text=other, norm=other),
                Passage(id="b", source="k.txt", title="商店支援補助金 公募要領",
                        section="商店支援補助金 > 2.要件 > （３） 申請できない事業者", start_line=2, end_line=6,
                        text="\n".join(items), norm="")]
    hits = [Hit(passage=p, score=1.0) for p in passages]
    vocabulary = {t for p in passages for t in tokenize(f"{p.section}\n{p.text}")}
    answerer = ExtractiveAnswerer(idf=lambda t: 2.0, known=lambda t: t in vocabulary)
    draft = answerer.answer(Query("商店支援補助金に申請できない事業者を全て挙げてください。"), hits)
    texts = [s.text for s in draft.sentences]
    assert texts == ["① 風俗営業を営む者。", "② 過去に補助金の不正受給があった者。（不正が確認された日から５年以内に限る。）",
                     "③ 税を滞納している者。"]
    assert all(s.hit == 1 for s in draft.sentences)
    # Not asked as a list: the usual choice of sentences.
    single = answerer.answer(Query("商店支援補助金は何を支援しますか？"), hits)
    assert single.sentences and "販路開拓" in single.sentences[0].text


def test_a_contact_asked_for_needs_a_number_or_an_address():
    from retrieval.search import Query

    question = Query("ものづくり支援補助金の問い合わせ先の電話番号を教えてください。")
    answerer, hits = _answerer_over(["ものづくり支援補助金の詳細は事務局にお問い合わせください。"])
    assert answerer.answer(question, hits).refused
    answerer, hits = _answerer_over(["ものづくり支援補助金の問い合わせ先：事務局コールセンター 電話 ０３－１２３４－５６７８"])
    assert not answerer.answer(question, hits).refused


def test_the_answering_passage_is_read_on_while_the_answer_is_short():
    """The sentences around the one that answers (its conditions) come along, in document order."""
    from retrieval.search import Query

    passage = ("ものづくり支援補助金の補助上限額は３００万円とする。対象は従業員２０人以下の事業者に限る。"
               "設備の購入は交付決定後に行うこと。")
    answerer, hits = _answerer_over([passage, "本補助金の目的は地域の製造業の振興である。"])
    draft = answerer.answer(Query("ものづくり支援補助金の補助上限額は？"), hits)
    texts = [s.text for s in draft.sentences]
    assert texts[0].startswith("ものづくり支援補助金の補助上限額は３００万円")
    assert "対象は従業員２０人以下の事業者に限る。" in texts and all(s.hit == 0 for s in draft.sentences)


def test_glossary_words_stand_in_for_the_users_words_in_a_passage_too():
    """A passage saying ＩＴツール covers a question saying パソコン as a sentence would (the glossary's stand-in)."""
    answerer, hits = _answerer_over(["ＩＴツールの導入費用を補助する。"])
    weights = {"パソコン": 2.0, "補助": 2.0}
    assert answerer._passage_coverage(hits, weights) == [0.5]
    assert answerer._passage_coverage(hits, weights, {"ITツール": 2.0, "ツール": 2.0}) == [1.0]


def test_a_figure_dated_another_fiscal_year_does_not_answer_for_the_asked_year():
    from bot.answerers.extractive import _another_year, _Candidate

    def stated(text: str) -> _Candidate:
        return _Candidate(text, 0, 0, 0.5, 1.0, frozenset(), frozenset({"amount"}))

    old = stated("令和5年度予算額 40億円（38億円）")
    cap = stated("補助上限額：1,000万円")
    asked = {"amount"}
    assert _another_year("令和7年度の予算額はいくら？", old, [old, cap], asked)
    assert _another_year("2025年度の予算額は？", old, [old], asked)  # 西暦 and 和暦 alike
    assert not _another_year("令和5年度の予算額は？", old, [old], asked)
    assert not _another_year("予算額はいくら？", old, [old], asked)  # no year asked
    assert not _another_year("令和7年度の補助上限額は？", cap, [cap, old], asked)  # the figure is undated
    now = stated("（令和7年度概算要求 45億円）")
    assert not _another_year("令和7年度の予算額は？", old, [old, now], asked)  # another statement names it


def test_fiscal_years_read_both_calendars():
    from retrieval.text import fiscal_years

    assert fiscal_years("令和８年度概算要求、R7年度補正、2024年度実績") == {2026, 2025, 2024}
    assert fiscal_years("2025年3月31日まで") == set()  # a date's year is not a fiscal year


def test_each_part_of_a_question_may_find_its_fact_in_its_own_passage():
    """「何者以上で…？また上限額は？」: the count stands in one passage, the cap in another; both are answered."""
    from retrieval.search import Query

    answerer, hits = _answerer_over([
        "ものづくり支援補助金の補助上限額は３００万円とする。補助率は１／２以内とする。",
        "共同申請の場合は、構成員５者以上のグループで申請すること。構成員は同一地域の事業者とする。",
    ])
    question = Query("ものづくり支援補助金の共同申請は構成員何者以上のグループで行いますか。また補助上限額はいくらですか。")
    draft = answerer.answer(question, hits)
    assert not draft.refused, draft.reason
    said = " ".join(s.text for s in draft.sentences)
    assert "５者以上" in said and "３００万円" in said


def test_a_unit_that_begins_mid_sentence():
    from bot.answerers.extractive import _starts_mid

    assert _starts_mid("の割増償却又は５％の税額控除ができる。")  # a line break cut 「…取得価額の２０％」 from it
    assert _starts_mid("、及び地域の金融機関と連携する。")
    assert not _starts_mid("ものづくり補助金は設備投資を支援する。")  # も before a kana word opens a sentence
    assert not _starts_mid("はじめに、事業の目的を述べる。")
    assert not _starts_mid("この事業は令和７年度に始まった。")


def test_a_phone_number_asked_for_is_a_number():
    from bot.answerers.extractive import ExtractiveAnswerer, _Candidate

    def states(text: str, question: str) -> frozenset[str]:
        return ExtractiveAnswerer._states(_Candidate(text, 0, 0, 0.5, 1.0, frozenset(), frozenset({"contact"})),
                                          question)

    question = "事務局の電話番号を教えて"
    assert "contact" not in states("詳しくは特設サイト https://example.jp/ を参照。", question)
    assert "contact" in states("コールセンター 0570-000-111（平日9:30～17:30）", question)
    assert "contact" in states("詳しくは特設サイト https://example.jp/ を参照。", "問い合わせ先は？")


def test_what_goes_on_in_the_next_retrieved_passage_is_read_with_the_chosen_sentence():
    """「また、…３分の１」 opening the next passage of the document goes on with the sentence that ends the one before."""
    from retrieval.search import Query

    answerer, hits = _answerer_over(["中小企業の特許料を２分の１に軽減する措置を講じている。",
                                     "また、小規模企業は３分の１とする。"])
    draft = answerer.answer(Query("中小企業の特許料を安くする仕組みはある？"), hits)
    assert [s.text for s in draft.sentences] == ["中小企業の特許料を２分の１に軽減する措置を講じている。",
                                                 "また、小規模企業は３分の１とする。"]


def test_the_best_sentences_passage_is_read_on_from_it_then_back():
    from bot.answerers.extractive import ExtractiveAnswerer, ExtractiveConfig, _Candidate

    units = [_Candidate(text, 0, pos, 0.5, 1.0, frozenset(), frozenset())
             for pos, text in enumerate(["あ" * 30, "い" * 30, "う" * 30, "え" * 30])]
    answerer = ExtractiveAnswerer(idf=lambda t: 1.0, config=ExtractiveConfig(passage_fill_chars=90))
    read = answerer._with_rest_of(units[2], [units[2]], units)
    assert [c.pos for c in read] == [2, 3, 1]  # what follows it first, then the nearest before it


def test_a_documents_subject_program_is_what_its_passages_are_about():
    """An evaluation report names its program in its title only: a rate it states deep inside is the program's."""
    from bot.answerers.extractive import ExtractiveAnswerer
    from retrieval.search import Query
    from retrieval.text import tokenize
    from retrieval.types import Hit, Passage

    texts = ["研究開発の補助率は原則２／３以内とする。", "事業化率は５割を超えた。"]
    vocabulary = {t for text in [*texts, "未来工房支援事業"] for t in tokenize(text)}
    hits = [Hit(passage=Passage(id=f"p{i}", source="report.txt", title="中間評価", section="", start_line=100 + i,
                                end_line=100 + i, text=text, norm=text), score=1.0 - i / 10)
            for i, text in enumerate(texts)]
    question = Query("未来工房支援事業で研究開発をする場合の補助率は原則どのくらい？")
    blind = ExtractiveAnswerer(idf=lambda t: 2.0, known=lambda t: t in vocabulary)
    assert blind.answer(question, hits).refused  # the passage never names the program
    told = ExtractiveAnswerer(idf=lambda t: 2.0, known=lambda t: t in vocabulary,
                              subject=lambda source: "未来工房支援事業" if source == "report.txt" else "")
    answer = told.answer(question, hits)
    assert not answer.refused and "２／３" in answer.sentences[0].text
