import pytest

from sesshu.core.numbers import (
    juminhyo_code_check_digit,
    mynumber_check_digit,
    validate_juminhyo_code,
    validate_mynumber,
)
from sesshu.core.problems import Problem

# Numbers made for tests by the formula (not anyone's number): 12345678901 -> check digit 8.
VALID = "123456789018"


def test_the_check_digit_follows_the_official_formula():
    # Worked by hand: digits from the right 1,0,9,8,7,6 x weights 2..7, then 5,4,3,2,1 x 2..6.
    total = 1 * 2 + 0 * 3 + 9 * 4 + 8 * 5 + 7 * 6 + 6 * 7 + 5 * 2 + 4 * 3 + 3 * 4 + 2 * 5 + 1 * 6
    assert mynumber_check_digit("12345678901") == 11 - total % 11 == 8


def test_remainders_0_and_1_give_check_digit_0():
    bodies = [f"{n:011d}" for n in range(2000)]
    zero = [
        b
        for b in bodies
        if sum(int(d) * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(reversed(b), 1)) % 11 <= 1
    ]
    assert zero and all(mynumber_check_digit(b) == 0 for b in zero)


@pytest.mark.parametrize("typed", [VALID, "１２３４５６７８９０１８", "1234 5678 9018", "1234-5678-9018"])
def test_valid_numbers_are_accepted_in_any_usual_form(typed):
    assert validate_mynumber(typed) == VALID


@pytest.mark.parametrize(
    "typed, code",
    [
        ("123456789010", "mynumber_check_digit"),
        ("12345678901", "mynumber_length"),
        ("1234567890188", "mynumber_length"),
        ("12345678901a", "mynumber_characters"),
        ("", "mynumber_length"),
    ],
)
def test_invalid_numbers_are_refused_with_the_reason_and_never_echoed(typed, code):
    with pytest.raises(Problem) as caught:
        validate_mynumber(typed)
    assert caught.value.code == code
    assert typed.strip() == "" or typed not in caught.value.ja + caught.value.en


def test_juminhyo_codes_carry_a_check_digit():
    body = "1234567890"
    code = body + str(juminhyo_code_check_digit(body))
    assert validate_juminhyo_code(code) == code
    wrong = body + str((int(code[-1]) + 1) % 10)
    with pytest.raises(Problem):
        validate_juminhyo_code(wrong)
