"""Names, addresses and dates as staff type them."""

from datetime import date

import pytest

from sesshu.core.problems import Problem
from sesshu.core.text import address_key, kana_key, kanji_key, name_key
from sesshu.core.wareki import format_wareki, parse_date


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("たなか", "タナカ"),  # hiragana finds katakana
        ("ﾀﾅｶ", "タナカ"),  # half-width
        ("タナカ　タロウ", "タナカタロウ"),  # full-width space
        ("ガトウ", "カトウ"),  # 清音化: voiced marks are ignored
        ("ハ゜ク", "ハク"),  # a separate handakuten too
        ("キョウコ", "キヨウコ"),  # small kana enlarged
        ("ヴィクトル", "ウイクトル"),
    ],
)
def test_kana_spellings_share_one_key(typed, stored):
    assert kana_key(typed) == kana_key(stored)


def test_kanji_variants_are_folded():
    assert kanji_key("髙橋") == kanji_key("高橋")
    assert kanji_key("山﨑 太郎") == "山崎太郎"
    assert kanji_key("渡邊") == kanji_key("渡辺")


@pytest.mark.parametrize("typed", ["緑町3丁目2番5号", "緑町３－２－５", "緑町三丁目２番地５号", "緑町 3-2-5"])
def test_address_spellings_share_one_key(typed):
    assert address_key(typed) == "緑町3-2-5"


@pytest.mark.parametrize(
    "text, kind", [("たなか", "kana"), ("タナカ タロウ", "kana"), ("田中", "kanji"), ("Nguyen Van", "latin")]
)
def test_a_name_query_is_compared_with_the_right_key(text, kind):
    assert name_key(text)[0] == kind


@pytest.mark.parametrize(
    "day, text",
    [
        (date(2025, 4, 1), "令和7年4月1日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
    ],
)
def test_wareki_is_shown_as_the_law_counts_eras(day, text):
    assert format_wareki(day) == text


@pytest.mark.parametrize(
    "typed",
    [
        "2019-05-01",
        "2019/5/1",
        "20190501",
        "令和元年5月1日",
        "R1.5.1",
        "r1/5/1",
        "R元.5.1",
        "２０１９－０５－０１",
    ],
)
def test_dates_are_read_in_every_usual_form(typed):
    assert parse_date(typed) == date(2019, 5, 1)


@pytest.mark.parametrize(
    "typed, code",
    [
        ("2025-02-30", "impossible_date"),
        ("令和7年2月30日", "impossible_date"),
        ("平成31年5月1日", "date_outside_era"),  # 平成 ended on 2019-04-30
        ("S65.1.1", "date_outside_era"),
        ("yesterday", "invalid_date"),
        ("2025-13-01", "impossible_date"),
    ],
)
def test_impossible_dates_are_refused_with_a_reason_in_both_languages(typed, code):
    with pytest.raises(Problem) as caught:
        parse_date(typed)
    assert caught.value.code == code
    assert caught.value.ja and caught.value.en
