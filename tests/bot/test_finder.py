"""The program finder over a small catalogue whose fields quote real lines of the corpus."""

import json
import re
import subprocess
import sys

import pytest

from bot.finder.finder import QUESTIONS, Finder, programs_from_json
from bot.finder.profile import Vocabulary
from bot.finder.render import to_answer
from bot.turns import assistant_turn, user_turn
from tests.conftest import CHECK_SHAPES, CORPUS

PR = "004_c456cd78b52186c0.txt"
DX = "001_5727ac24c4ad27bb.txt"


def cited(value: str, source: str, start: int, end: int | None = None) -> dict:
    return {"value": value, "source": source, "start_line": start, "end_line": end or start}


CATALOGUE = [
    {"name": "成長型中小企業等研究開発支援事業（Go-Tech事業）", "nicknames": ["Go-Tech事業"], "fields": {
        "budget": cited("令和6年度予算額 128億円（133億円）", PR, 2023),
        "purpose": cited("中小企業による持続的な成長のため、研究開発及びその成果の事業化を支援する", PR, 2033, 2035),
        "support": cited("中小企業が大学・公設試等の研究機関等と連携して行う、研究開発、試作品開発等に係る取組を最大３年間支援する。",
                         PR, 2060, 2062),
    }},
    {"name": "東日本大震災復興特別貸付等", "nicknames": [], "fields": {
        "budget": cited("令和6年度予算額 0.3億円（0.6億円）", PR, 4634),
        "purpose": cited("東日本大震災により被害を受けた中小企業・小規模事業者に対して、資金繰りの円滑化及び事業の復興を支援する",
                         PR, 4640, 4642),
        "target": cited("東日本大震災により被害を受けた中小企業・小規模事業者", PR, 4640),
    }},
    {"name": "小規模事業者持続的発展支援事業（持続化補助金）", "nicknames": ["持続化補助金"], "fields": {
        "cap": cited("補助上限：100万円", DX, 514), "rate": cited("補助率：3/4", DX, 514),
        "target": cited("小規模事業者等", DX, 515),
        "purpose": cited("小規模事業者等が経営計画を作成して取り組む、ポストコロナを踏まえた新たなビジネスやサービス、生産プロセスの導入等の取組を支援",  # noqa: E501
                         DX, 515),
    }},
    {"name": "サービス等生産性向上IT導入支援事業（IT導入補助金）", "nicknames": ["IT導入補助金"], "fields": {
        "rate": cited("補助率：2/3", DX, 520),
        "support": cited("複数の業務工程を広範囲に非対面化する業務形態の転換が可能なITツールの導入を支援します。", DX, 522),
    }},
]


@pytest.fixture(scope="module")
def finder() -> Finder:
    return Finder(programs_from_json(CATALOGUE), Vocabulary.load(CORPUS / "glossary.yaml"), CORPUS)


def names(result) -> list[str]:
    return [p.name for p in result.programs]


def test_a_research_situation_finds_go_tech_with_cited_reasons(finder):
    r = finder.find("社員20人の町工場で、大学と組んで新しい加工技術を開発したい", ask=False)
    assert names(r)[0].startswith("成長型中小企業等研究開発支援事業")
    top = r.programs[0]
    assert top.reasons and all(reason.citations for reason in top.reasons)
    assert any(c.start_line == 2023 for a in top.amounts for c in a.citations)  # 予算額 quoted and cited
    assert r.profile["industry"] == "製造業" and r.profile["employees"] == 20


def test_disaster_programs_need_the_circumstance(finder):
    hit = finder.find("震災で被害を受けた福島の店で、資金繰りが苦しい", ask=False)
    assert names(hit)[0] == "東日本大震災復興特別貸付等"
    other = finder.find("東京の小売店で、資金繰りが苦しい。災害の被害はない", ask=False)
    assert other.profile["circumstances"] == [] and other.profile["ruled_out"] == ["被災"]
    assert "東日本大震災復興特別貸付等" not in names(other)  # 「被害はない」 rules the disaster programs out
    assert not any("被災事業者向け" in t for p in other.programs for t in p.to_check)
    unsaid = finder.find("東京の小売店で、資金繰りが苦しい", ask=False)  # not said either way: to check
    assert any("被災事業者向け" in t for p in unsaid.programs for t in p.to_check)


def test_a_vague_message_gets_the_goal_question_first_and_わからない_is_accepted(finder):
    r = finder.find("小さな会社を経営しています。使える補助金はありますか")
    assert r.question and r.question.startswith(QUESTIONS["goals"]) and r.question_field == "goals"
    history = [user_turn("小さな会社を経営しています。使える補助金はありますか"), assistant_turn(to_answer(r))]
    after = finder.find("わからない", history=history)
    assert "goals" in after.profile["unknown"] and after.question_field != "goals"


def test_no_question_when_the_situation_already_decides(finder):
    r = finder.find("震災で被災した福島県の製造業、従業員10人。資金繰りに困っています")
    assert r.question is None and names(r)[0] == "東日本大震災復興特別貸付等"


def test_a_correction_changes_the_list(finder):
    first = finder.find("ITツールを入れて業務を効率化したい小売店です", ask=False)
    history = [{"role": "user", "content": "ITツールを入れて業務を効率化したい小売店です"},
               {"role": "assistant", "content": "…"}]
    corrected = finder.find("IT化ではなく、大学と組んで研究開発をしたいです", history=history, ask=False)
    assert names(first)[0].endswith("（IT導入補助金）")
    assert names(corrected)[0].startswith("成長型中小企業等研究開発支援事業")


def test_nothing_fits_says_so(finder):
    r = finder.find("自宅の住宅ローンの金利を下げたい", ask=False)
    assert r.programs == [] and "見つかりませんでした" in r.message and "公募要領" in r.note


def test_the_json_has_the_shape_other_tools_read(finder, tmp_path):
    r = finder.find("社員20人の町工場で、大学と組んで新しい加工技術を開発したい", ask=False)
    if not CHECK_SHAPES.exists():
        pytest.skip(f"{CHECK_SHAPES} not found (shared/ is not beside this checkout)")
    out = tmp_path / "find.json"
    out.write_text(r.model_dump_json(), encoding="utf-8")
    done = subprocess.run([sys.executable, str(CHECK_SHAPES), "find", str(out)], capture_output=True, text=True,
                          env={"CORPUS_DIR": str(CORPUS)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(out.read_text())["programs"][0]["reasons"][0]["citations"][0]["start_line"] >= 1


def test_finder_eval_runs_a_conversation_and_scores_it(finder, tmp_path):
    from evals.finder_eval import finder_metrics, load_finder_dataset, run_item, same_program

    rows = [
        {"id": "f1", "situation": "社員20人の町工場で、大学と組んで新しい加工技術を開発したい",
         "expected": ["成長型中小企業等研究開発支援事業"], "aliases": {"成長型中小企業等研究開発支援事業": ["Go-Tech事業"]},
         "evidence": [{"program": "成長型中小企業等研究開発支援事業", "source": PR,
                       "quote": "中小企業が大学・公設試等の研究機関等と連携して行う、研究"}]},
        {"id": "f2", "situation": "小さな会社です。何か使える補助金はありますか", "expected": ["小規模事業者持続的発展支援事業"],
         "needs_question": True, "decisive": "goals"},
        {"id": "f3", "situation": "自宅の住宅ローンの金利を下げたい", "expected": [], "no_fit": True},
    ]
    path = tmp_path / "finder.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    items = load_finder_dataset(path, CORPUS)
    records = [run_item(finder, i) for i in items]
    assert records[0]["top3"] and records[0]["questions"] == 0 and all(records[0]["reasons_supported"])
    assert records[1]["questions"] >= 1 and records[1]["question_fields"][0] == "goals"
    assert records[2]["top3"] and records[2]["listed"] == []
    m = finder_metrics(records)
    assert m["asked_when_needed"] == 1.0 and m["no_fit_accuracy"] == 1.0 and m["reason_support"] == 1.0
    assert same_program("成長型中小企業等研究開発支援事業（Go-Tech事業）", "成長型中小企業等研究開発支援事業")
    assert not same_program("事業承継・引継ぎ補助金", "成長型中小企業等研究開発支援事業")


def test_finder_dataset_errors_are_reported(tmp_path):
    from evals.finder_eval import FinderDatasetError, load_finder_dataset

    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "x", "situation": "…", "expected": ["A"], "evidence": [
        {"program": "A", "source": PR, "quote": "この文は資料にありません"}]}, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(FinderDatasetError, match="evidence not in"):
        load_finder_dataset(path, CORPUS)


def test_a_finder_result_reads_as_a_cited_answer(finder):
    from bot.finder.render import to_answer

    listed = to_answer(finder.find("社員20人の町工場で、大学と組んで新しい加工技術を開発したい", ask=False))
    assert not listed.refused and listed.citations
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", listed.answer)}
    assert markers == {c.n for c in listed.citations}
    assert "公募要領" in listed.answer and listed.finder["profile"]["industry"] == "製造業"
    asking = to_answer(finder.find("小さな会社です。何か使える補助金はありますか"))
    assert asking.finder["question_field"] == "goals" and QUESTIONS["goals"] in asking.answer
    nothing = to_answer(finder.find("自宅の住宅ローンの金利を下げたい", ask=False))
    assert nothing.refused and "よろず支援拠点" in nothing.answer


def test_a_household_need_gets_no_list_and_no_question(finder):
    r = finder.find("子どもが来年大学に進学します。学費が足りないので教育ローンを紹介してほしい。私は小さな店をやっています")
    assert r.question is None and r.programs == [] and "見つかりませんでした" in r.message


def test_the_capital_is_asked_when_the_employee_count_alone_cannot_say_sme(finder):
    situation = "従業員320人の部品工場です。研究開発をしたい"  # over the 300 of 製造業: the capital decides
    r = finder.find(situation)
    assert r.question_field == "capital_yen" and r.profile.get("size") is None
    history = [user_turn(situation), assistant_turn(to_answer(r))]
    answered = finder.find("3千万円です", history=history)
    assert answered.question is None and answered.profile["capital_yen"] == 30_000_000
    assert answered.profile["size"] == "中小企業" and answered.profile["size_basis"] == "size_table"
    unknown = finder.find("わからない", history=history)
    assert unknown.question_field != "capital_yen" and "capital_yen" in unknown.profile["unknown"]
    within = finder.find("従業員120人の部品工場です。研究開発をしたい")  # within 300: no need to ask
    assert within.question_field != "capital_yen" and within.profile["size"] == "中小企業"


def test_a_call_for_larger_businesses_does_not_admit_a_small_one():
    from bot.finder.match import admits_employees

    assert not admits_employees("対象従業員数: 901名以上", 10) and admits_employees("対象従業員数: 901名以上", 1200)
    assert not admits_employees("対象従業員数: 20名以下", 60) and admits_employees("対象従業員数: 20名以下", 20)
    assert admits_employees("対象従業員数: 従業員数の制約なし", 5000)


def test_a_situation_asking_for_a_tax_break_ranks_the_tax_program_over_grants_on_its_topic():
    """「税金の面で優遇は」 names the form of help: a grant for the same topic is not what was asked for."""
    from bot.finder.match import rank
    from bot.finder.profile import Profile

    programs = programs_from_json([
        {"name": "試作開発補助金", "nicknames": [], "fields": {
            "purpose": cited("中小企業が行う研究開発及び試作品開発を支援する", PR, 1)}},
        {"name": "試験研究税制", "nicknames": [], "fields": {
            "support": cited("中小企業の研究開発に係る試験研究費の一定割合を税額控除する", PR, 2)}},
    ])
    vocabulary = Vocabulary.load(CORPUS / "glossary.yaml")
    assert "税制優遇" in vocabulary.form_goals
    closer = {0: 1.0, 1: 0.2}  # the grant's passages are the closer to the situation's words
    asked = rank(Profile(goals=["研究開発", "税制優遇"]), programs, vocabulary, relevance=closer)
    assert [m.program.name for m in asked][:1] == ["試験研究税制"]
    # a situation that names no form of help keeps the closer grant first
    topic = rank(Profile(goals=["研究開発"]), programs, vocabulary, relevance=closer)
    assert [m.program.name for m in topic][:1] == ["試作開発補助金"]
