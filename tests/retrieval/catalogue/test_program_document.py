"""A document about one program (layouts.program_document) on the サポイン evaluation: its title names it."""

from retrieval.catalogue.layouts import program_document

SEED = "000_3a47fe808535efcd.txt"  # 戦略的基盤技術高度化支援事業（サポイン事業）中間評価資料

# (name, heading lines, parent, nicknames, {field: (value, start_line, end_line)})
EXPECTED = (
    "戦略的基盤技術高度化支援事業", (464, 464), None,
    ["サポイン事業", "サポイン", "サポイン補助金", "サポーティング・インダストリー支援事業"], {
        "kind": ("補助", 25, 25),  # 「実施形態 …補助金」
        "support": ("中小企業が、産学官連携により取り組む研究開発に対する支援", 485, 486),  # the last 対象事業 block
        "cap": ("○単年度４，５００万円以下", 491, 493),
        "rate": ("原則２／３以内", 498, 498),
        "period": ("２～３ 年", 488, 488),
    },
)


def test_program_document_golden(run_layout, golden):
    programs = run_layout(program_document, SEED)
    assert len(programs) == 1
    assert golden(programs, EXPECTED[0], EXPECTED[1], list(EXPECTED[4])) == EXPECTED


def test_program_document_needs_a_title_naming_a_program(run_layout):
    assert run_layout(program_document, SEED, title="") == []
    assert run_layout(program_document, "004_c456cd78b52186c0.txt") == []  # the PR sheets' title names none
