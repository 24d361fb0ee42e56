"""Areas: which prefectures a program's or call's area text admits (regions expanded, 全国 for all)."""

from retrieval.areas import areas, short_form


def test_a_region_admits_its_prefectures_only():
    text = "対象地域: 九州・沖縄地方 対象地域の詳細: 九州・沖縄地方内に事業所を有すること"
    assert areas().admits(text, "福岡県") and areas().admits(text, "沖縄")
    assert not areas().admits(text, "島根県")


def test_a_prefecture_named_restricts_and_tokyo_is_not_kyoto():
    assert areas().named("対象地域: 東京都") == {"東京"}
    assert not areas().admits("東京都内の中小企業", "京都府")
    assert areas().admits("京都府内の中小企業", "京都府")


def test_nationwide_or_no_place_admits_everyone():
    assert areas().named("対象地域: 全国") is None and areas().admits("対象地域: 全国", "高知県")
    assert areas().named("中小企業・小規模事業者") is None


def test_short_forms():
    assert [short_form(n) for n in ("福岡県", "東京都", "大阪府", "北海道", "福岡")] == ["福岡", "東京", "大阪", "北海道", "福岡"]


def test_the_prefectures_a_question_names():
    assert areas().mentioned("東京都と大阪府の会社です") == ["東京", "大阪"]
    assert areas().mentioned("京都で開業") == ["京都"]
