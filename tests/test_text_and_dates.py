"""Names, addresses and dates as staff type them."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def _kana_key_step_by_step(text: str) -> str:
    """kana_key as written before it became one translation table: each step in turn."""
    import unicodedata

    import jaconv

    from sesshu.core.text import _SMALL_KANA, _SPACES, _VOICED_MARKS, nfkc

    text = _SPACES.sub("", jaconv.hira2kata(nfkc(text))).translate(_SMALL_KANA)
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", text) if ch not in _VOICED_MARKS)
    return unicodedata.normalize("NFC", stripped)


def test_the_kana_key_is_the_same_as_its_steps_in_turn_for_every_character():
    # Every code point up to the end of the half-width forms (kana, spaces, marks, CJK, ASCII...).
    everything = "".join(chr(c) for c in range(0xFFF0) if not 0xD800 <= c < 0xE000)
    for start in range(0, len(everything), 64):
        chunk = everything[start : start + 64]
        assert kana_key(chunk) == _kana_key_step_by_step(chunk), chunk


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_the_kana_key_is_the_same_as_its_steps_in_turn_for_any_text(text):
    assert kana_key(text) == _kana_key_step_by_step(text)


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
