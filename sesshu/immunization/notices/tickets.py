"""接種券番号: the ticket number printed on every notice, as text and as a QR code.

Layout (16 digits, printed ``992011 000001234 5``):

    municipality code (6: 全国地方公共団体コード, with its own check digit)
    serial (9: one counter for the city, never reused)
    check digit (1: Damm algorithm over the 15 digits before it)

Why Damm: it is a single decimal digit (no "X" as modulus 11 needs, so the number stays numeric on
every form and OCR font) and it detects every single-digit error and every transposition of two
adjacent digits, the two mistakes people make copying numbers; the VRS era taught that printed
numbers get misread. The QR code carries the same 16 digits, so a reader never has to type them.
"""

import re

from django.conf import settings
from django.db import transaction

from sesshu.core.problems import Problem
from sesshu.core.text import nfkc

from ..models import TicketCounter

# The Damm quasigroup of order 10 (weakly totally anti-symmetric, zero diagonal).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
SERIAL_DIGITS = 9
LENGTH = 6 + SERIAL_DIGITS + 1


def damm_check_digit(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def is_valid(number: str) -> bool:
    """A number with its check digit: Damm over all its digits gives 0."""
    return number.isascii() and number.isdigit() and damm_check_digit(number) == 0


def municipality_code() -> str:
    return str(settings.SESSHU_MUNICIPALITY_CODE)


def make_ticket_number(serial: int, code: str | None = None) -> str:
    body = f"{code or municipality_code()}{serial:0{SERIAL_DIGITS}d}"
    if len(body) != LENGTH - 1:
        raise ValueError(f"serial {serial} does not fit {SERIAL_DIGITS} digits")
    return body + str(damm_check_digit(body))


def format_ticket_number(number: str) -> str:
    """As printed for people to read: municipality, serial and check digit apart."""
    return f"{number[:6]} {number[6:-1]} {number[-1]}"


def parse_ticket_number(raw: str) -> str:
    """A ticket number as typed or read (spaces, hyphens, full-width digits allowed) or a Problem."""
    digits = re.sub(r"[\s\-‐ー]", "", nfkc(str(raw or "")))[:40]
    if not (digits.isascii() and digits.isdigit()) or len(digits) != LENGTH:
        raise Problem(
            "invalid_ticket_number",
            f"接種券番号は{LENGTH}桁の数字です。",
            f"A ticket number has {LENGTH} digits.",
            "ticket_number",
        )
    if not is_valid(digits):
        raise Problem(
            "ticket_check_digit",
            "接種券番号の検査数字が合いません。番号を確かめてください。",
            "The ticket number's check digit does not match: check the number.",
            "ticket_number",
        )
    return digits


def allocate_serials(count: int) -> range:
    """Take ``count`` consecutive serials under a row lock (one statement pair per chunk of notices).

    Call inside the transaction that writes the notices: if it rolls back, the serials are not used
    and the next run takes them again (a serial is never printed twice).
    """
    if count <= 0:
        return range(0)
    with transaction.atomic():
        counter, _ = TicketCounter.objects.select_for_update().get_or_create(pk=1)
        first = counter.last_serial + 1
        counter.last_serial += count
        counter.save(update_fields=["last_serial"])
    return range(first, first + count)
