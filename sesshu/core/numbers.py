"""Check digits of the national numbers.

個人番号 (My Number): 11 digits and a check digit, by the formula of 番号法施行令 §8 and 総務省令第85号
§5: with P(n) the n-th digit counted from the right of the first 11 and Q(n) = n+1 for n <= 6,
n-5 for n >= 7, the check digit is 11 - (sum P(n)Q(n) mod 11), or 0 when that remainder is 0 or 1.

住民票コード: 10 digits and a check digit by a modulus-11 formula of the same shape (総務省告示第436号);
the weights used here are the My Number's, applied to 10 digits. sesshu only generates 住民票コード in
its simulators; a city's real codes come from 住基ネット and are stored as received.
"""

from .problems import Problem
from .text import nfkc


def _mod11_check(body: str) -> int:
    total = 0
    for n, digit in enumerate(reversed(body), start=1):
        weight = n + 1 if n <= 6 else n - 5
        total += int(digit) * weight
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def mynumber_check_digit(first11: str) -> int:
    return _mod11_check(first11)


def juminhyo_code_check_digit(first10: str) -> int:
    return _mod11_check(first10)


def normalize_digits(raw: str) -> str:
    """Full-width digits to ASCII; spaces, hyphens and other separators removed."""
    return "".join(ch for ch in nfkc(raw or "") if ch.isdigit() and ch.isascii())


def validate_mynumber(raw: str) -> str:
    """The 12-digit My Number, or a Problem saying exactly what is wrong (never echoing the number)."""
    text = nfkc(raw or "").strip()
    digits = normalize_digits(text)
    stray = [ch for ch in text if not (ch.isdigit() or ch in " -\u3000‐－")]
    if stray:
        raise Problem(
            "mynumber_characters", "個人番号には数字以外の文字は使えません。", "A My Number has digits only."
        )
    if len(digits) != 12:
        raise Problem(
            "mynumber_length",
            f"個人番号は12桁です（入力は{len(digits)}桁）。",
            f"A My Number has 12 digits (this has {len(digits)}).",
        )
    if int(digits[-1]) != mynumber_check_digit(digits[:11]):
        raise Problem(
            "mynumber_check_digit",
            "個人番号の検査用数字（12桁目）が正しくありません。入力を確認してください。",
            "The My Number's check digit (the 12th digit) is wrong. Check the number as typed.",
        )
    return digits


def validate_juminhyo_code(raw: str) -> str:
    digits = normalize_digits(raw)
    if len(digits) != 11 or int(digits[-1]) != juminhyo_code_check_digit(digits[:10]):
        raise Problem(
            "juminhyo_code_invalid",
            "住民票コードは検査数字を含む11桁の数字です。入力を確認してください。",
            "A 住民票コード is 11 digits including its check digit. Check the code as typed.",
        )
    return digits
