"""White-paper measures (layouts.white_paper) on the ものづくり白書: numbered headings that name a program."""

import pytest

from retrieval.catalogue.layouts import white_paper

SEED = "003_98a7ad4e509f988b.txt"  # 令和2年度においてものづくり基盤技術の振興に関して講じた施策（ものづくり白書 第2部）

# (name, heading lines, parent, nicknames, {field: (value, start_line, end_line)})
EXPECTED = [
    ("元素戦略プロジェクト<研究拠点形成型>", (126, 127), None, [], {
        "ministry": ("経産省、文科省", 126, 127),  # 「＜経産省、文科省＞」 at the heading's end
        "budget": ("16億86百万円", 126, 127),
    }),
    ("新卒者等に対する就労支援", (1247, 1248), None, ["新卒応援ハローワーク"], {
        "budget": ("87億 29百万円", 1247, 1248),
        "target": ("既卒未就職者", 1251, 1251),  # 「既卒未就職者を対象に…」
    }),
    # the same measure heads three sections; each is its own entry (extract keeps the first id)
    ("中小企業組合等共同施設等災害復旧費補助金", (2835, 2836), None, ["グループ補助金", "中小企業等グループ補助金"], {
        "kind": ("補助", 2835, 2836),
        "budget": ("4億 53百万円", 2835, 2836),
    }),
    ("教員研修の実施", (2415, 2416), None, [], {
        "budget": ("（独）教職員支援機構の運営費交付金の内数", 2415, 2416),
        "target": ("職業に関する教科の教員等", 2418, 2418),
        "support": ("職業に関する教科の教員等を対象とした研修を実施した。", 2418, 2419),
    }),
]


@pytest.fixture(scope="module")
def programs(run_layout):
    return run_layout(white_paper, SEED)


def test_white_paper_finds_every_measure(programs):
    assert len(programs) == 135 and all(p.parent is None for p in programs)


@pytest.mark.parametrize("want", EXPECTED, ids=[w[0] for w in EXPECTED])
def test_white_paper_golden(programs, golden, want):
    name, heading, _, _, fields = want
    assert golden(programs, name, heading, list(fields)) == want
