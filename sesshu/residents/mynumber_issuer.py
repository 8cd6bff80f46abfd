"""Where a new resident's My Number comes from: the national issuer (地方公共団体情報システム機構, through
住基ネット and the city's CS). Pluggable: ``SESSHU_MYNUMBER_ISSUER`` names the class.

``LocalIssuerSimulator`` stands in for it in the demo and the tests: it gives every resident a stable
number that is valid under the official check-digit rule and never shared with another resident.
It is a simulator: real numbers only ever come from the national issuer.
"""

from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from sesshu.core.numbers import mynumber_check_digit

from .models import Resident

_MODULUS = 10**11
# An affine map n -> (A*n + B) mod 10^11 with A coprime to 10 is a bijection on 11-digit bodies: the
# simulated numbers look scattered but two residents can never get the same one.
_A = 48_271_000_003
_B = 29_000_417_381


class MyNumberIssuer(Protocol):
    def number_for(self, resident: Resident) -> str:
        """The resident's 12-digit My Number (issued now for a birth, known already for a move-in)."""
        ...


class LocalIssuerSimulator:
    def number_for(self, resident: Resident) -> str:
        body = f"{(_A * int(resident.resident_number) + _B) % _MODULUS:011d}"
        return body + str(mynumber_check_digit(body))


def issuer() -> MyNumberIssuer:
    return import_string(settings.SESSHU_MYNUMBER_ISSUER)()
