"""Budget PR sheets (layouts.budget_sheet) on the 令和6年度 事業PR資料: sheets, and programs inside a sheet."""

import pytest

from retrieval.catalogue.layouts import budget_sheet

SEED = "004_c456cd78b52186c0.txt"  # 経済産業省 令和6年度予算・補正予算 事業PR資料

# (name, heading lines, parent, nicknames, {field: (value, start_line, end_line)})
EXPECTED = [
    ("成長型中小企業等研究開発支援事業", (2022, 2022), None, ["Go-Tech事業", "Go-Tech"], {
        "budget": ("令和6年度予算額 128億円（133億円）", 2023, 2023),
        "cap": ("（通常枠）単年4,500万円、３年間9,750万円", 2086, 2086),
        "rate": ("（中小企業者等）原則2/3以内（大学・公設試等）原則定額", 2089, 2089),
        "period": ("最大３年間", 2062, 2062),
    }),
    ("宇宙産業技術情報基盤整備研究開発事業", (2, 2), None, ["SERVISプロジェクト", "SERVIS"], {
        "budget": ("令和6年度予算額 20億円（19億円）", 3, 3),
        "division": ("製造産業局宇宙産業室", 27, 27),
        "rate": ("補助（1/2又は2/3）", 57, 58),  # the scheme diagram: 「補助」 over 「（1/2又は2/3）」
        "period": ("令和４年度から６年度までの３年間", 31, 31),
    }),
    ("なりわい再建支援事業（令和2年7月豪雨）", (5179, 5179), None, [], {
        "budget": ("令和5年度補正予算額 19億円", 5180, 5180),
        "target": ("中小企業等", 5187, 5187),
        "cap": ("15億円", 5200, 5200),
        "rate": ("補助（3/4以内、定額※）", 5184, 5185),
    }),
    # a program described inside the 中小企業生産性革命推進事業 sheet: 「（2）…事業（持続化補助金）」
    ("小規模事業者持続的発展支援事業", (2144, 2144), "中小企業生産性革命推進事業｜令和5年度補正予算額", ["持続化補助金"], {
        "kind": ("補助", 2144, 2144),
        "support": ("小規模事業者等が自ら経営計画を作成して取り組む販路開拓等の取組を支援する。", 2145, 2146),
        "outcomes": ("・事業終了後１年で販路開拓につながった事業者の割合を80％以上", 2122, 2122),
    }),
]


@pytest.fixture(scope="module")
def programs(run_layout):
    return run_layout(budget_sheet, SEED)


def test_budget_sheet_finds_every_sheet_and_sub_program(programs):
    assert (len(programs), sum(p.parent is None for p in programs)) == (106, 97)


@pytest.mark.parametrize("want", EXPECTED, ids=[w[0] for w in EXPECTED])
def test_budget_sheet_golden(programs, golden, want):
    name, heading, _, _, fields = want
    assert golden(programs, name, heading, list(fields)) == want
