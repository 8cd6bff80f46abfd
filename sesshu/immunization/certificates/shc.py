"""SMART Health Cards (https://spec.smarthealth.cards): the payload, the JWS, the ``shc:/`` text and its QR.

Nothing here touches the database. The steps, as the public specification lays them down:

1. a JWT payload ``{"iss", "nbf", "vc": {"type": [...], "credentialSubject": {"fhirVersion": "4.0.1",
   "fhirBundle": ...}}}`` (optionally ``vc.rid`` for revocation), minified;
2. compressed with raw DEFLATE (no zlib header: ``wbits=-15``);
3. signed as a compact JWS, header ``{"zip": "DEF", "alg": "ES256", "kid": <JWK thumbprint>}``;
4. each character of the JWS written as two digits, ``ord(c) - 45``, after ``shc:/``;
5. a QR code of two segments, ``shc:/`` in byte mode and the digits in numeric mode, error correction L,
   in one chunk (version 22 at most, so a JWS of at most 1195 characters).
"""

import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime

import segno
from jwcrypto import jwk, jws
from jwcrypto.common import JWException
from segno import consts

from sesshu.core.problems import Problem

PREFIX = "shc:/"
FHIR_VERSION = "4.0.1"
HEALTH_CARD = "https://smarthealth.cards#health-card"
IMMUNIZATION = "https://smarthealth.cards#immunization"
COVID19 = "https://smarthealth.cards#covid19"
CVX = "http://hl7.org/fhir/sid/cvx"
# The JP code for vaccines without a CVX code: the register's own vaccine code (documented in
# docs/certificates.md). Every vaccine of the register has a CVX code today, so this is the fallback.
JP_VACCINE_SYSTEM = "urn:sesshu:vaccine"
MAX_SINGLE_CHUNK_JWS = 1195  # the largest JWS that fits one version-22 QR code at level L
MAX_INPUT = 20_000  # pasted text beyond this is not a health card (and is not read further)

# CVX codes (CDC) of the register's vaccines. Unspecified formulations where Japan's product differs
# from the US ones; a product's own code would be more exact, once products carry one.
CVX_CODES = {
    "DPT-IPV-Hib": "120",  # DTaP-Hib-IPV
    "DPT-IPV": "130",  # DTaP-IPV
    "Hib": "17",  # Hib, unspecified formulation
    "PCV": "152",  # pneumococcal conjugate, unspecified formulation
    "HepB": "45",  # hepatitis B, unspecified formulation
    "Rota1": "119",  # rotavirus, monovalent
    "Rota5": "116",  # rotavirus, pentavalent
    "BCG": "19",
    "MR": "04",  # measles and rubella
    "VAR": "21",  # varicella
    "JE": "129",  # Japanese encephalitis, unspecified formulation
    "DT": "28",  # DT (pediatric)
    "HPV": "137",  # HPV, unspecified formulation
    "Flu": "88",  # influenza, unspecified formulation
    "PPSV23": "33",  # pneumococcal polysaccharide PPV23
    "HZ-live": "121",  # zoster, live
    "HZ-RZV": "187",  # zoster, recombinant
    "COVID-19": "213",  # SARS-COV-2, unspecified formulation
}


class HealthCardError(Problem):
    """A pasted or scanned text that is not a genuine health card; the message says what is wrong."""


def card_error(code: str, ja: str, en: str) -> HealthCardError:
    return HealthCardError(code, ja, en, "shc")


# The payload ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dose:
    vaccine_code: str  # the register's code (MR, COVID-19, ...)
    occurred_on: date
    lot_number: str = ""
    performer: str = ""  # the clinic, as Immunization.performer.actor.display


@dataclass(frozen=True)
class CardSubject:
    family_name: str
    given_names: tuple[str, ...]
    birth_date: date
    doses: tuple[Dose, ...] = field(default_factory=tuple)


def vaccine_coding(vaccine_code: str) -> dict:
    cvx = CVX_CODES.get(vaccine_code)
    if cvx:
        return {"system": CVX, "code": cvx}
    return {"system": JP_VACCINE_SYSTEM, "code": vaccine_code}


def fhir_bundle(subject: CardSubject) -> dict:
    """The minimal Bundle the spec asks for: no ids, no narrative, ``resource:N`` references."""
    name = {"family": subject.family_name}
    if subject.given_names:
        name["given"] = list(subject.given_names)
    entries = [
        {
            "fullUrl": "resource:0",
            "resource": {
                "resourceType": "Patient",
                "name": [name],
                "birthDate": subject.birth_date.isoformat(),
            },
        }
    ]
    for number, dose in enumerate(subject.doses, start=1):
        immunization = {
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"coding": [vaccine_coding(dose.vaccine_code)]},
            "patient": {"reference": "resource:0"},
            "occurrenceDateTime": dose.occurred_on.isoformat(),
        }
        if dose.performer:
            immunization["performer"] = [{"actor": {"display": dose.performer}}]
        if dose.lot_number:
            immunization["lotNumber"] = dose.lot_number
        entries.append({"fullUrl": f"resource:{number}", "resource": immunization})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def card_payload(issuer: str, issued_at: datetime, subject: CardSubject, rid: str = "") -> dict:
    types = [HEALTH_CARD, IMMUNIZATION]
    if subject.doses and all(d.vaccine_code == "COVID-19" for d in subject.doses):
        types.append(COVID19)
    vc: dict = {
        "type": types,
        "credentialSubject": {"fhirVersion": FHIR_VERSION, "fhirBundle": fhir_bundle(subject)},
    }
    if rid:
        vc["rid"] = rid
    return {"iss": issuer, "nbf": int(issued_at.timestamp()), "vc": vc}


def minified(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def inflate(data: bytes, limit: int = 1_000_000) -> bytes:
    decompressor = zlib.decompressobj(-15)
    out = decompressor.decompress(data, limit)
    if decompressor.unconsumed_tail:
        raise card_error("too_large", "証明書の内容が大きすぎます。", "The card's content is too large.")
    return out


# Signing and reading -------------------------------------------------------------------------------------


def sign(payload: dict, key: jwk.JWK) -> str:
    """The compact JWS of the deflated payload, signed ES256 with the key's thumbprint as ``kid``."""
    header = {"zip": "DEF", "alg": "ES256", "kid": key.thumbprint()}
    token = jws.JWS(deflate(minified(payload)))
    token.add_signature(key, None, protected=json.dumps(header, separators=(",", ":")))
    return token.serialize(compact=True)


@dataclass(frozen=True)
class ReadCard:
    header: dict
    payload: dict


def read_header(compact: str) -> dict:
    try:
        token = jws.JWS()
        token.deserialize(compact)
        header = token.jose_header
    except (JWException, ValueError, TypeError):
        raise card_error(
            "not_a_jws", "証明書の署名データとして読み取れません。", "This is not a signed health card."
        ) from None
    if not isinstance(header, dict) or header.get("alg") != "ES256" or header.get("zip") != "DEF":
        raise card_error(
            "wrong_header",
            "SMART Health Card の形式ではありません（alg ES256, zip DEF が必要）。",
            "Not a SMART Health Card (alg ES256 and zip DEF are required).",
        )
    return header


def verify(compact: str, keys: jwk.JWKSet) -> ReadCard:
    """Check the signature against ``keys`` (found by ``kid``), then inflate and parse the payload."""
    header = read_header(compact)
    key = keys.get_key(str(header.get("kid", "")))
    if key is None:
        raise card_error(
            "unknown_key",
            "この証明書は当市の署名鍵で署名されていません。",
            "This card was not signed by one of this city's keys.",
        )
    token = jws.JWS()
    token.allowed_algs = ["ES256"]
    try:
        token.deserialize(compact)
        token.verify(key)
    except (JWException, ValueError, TypeError):
        raise card_error(
            "bad_signature",
            "署名が正しくありません（内容が改ざんされているか、別の鍵で署名されています）。",
            "The signature does not match: the content was changed, or it was signed by another key.",
        ) from None
    try:
        payload = json.loads(inflate(token.payload))
    except (zlib.error, ValueError, UnicodeDecodeError):
        raise card_error(
            "bad_payload", "証明書の内容を読み取れません。", "The card's content cannot be read."
        ) from None
    if not isinstance(payload, dict):
        raise card_error(
            "bad_payload", "証明書の内容を読み取れません。", "The card's content cannot be read."
        )
    return ReadCard(header, payload)


# shc:/ text and the QR code ------------------------------------------------------------------------------


def to_numeric(compact: str) -> str:
    """``shc:/`` and two digits per character (its code point minus 45)."""
    return PREFIX + "".join(f"{ord(ch) - 45:02d}" for ch in compact)


_NUMERIC = re.compile(r"^[0-9]+$")


def from_numeric(text: str) -> str:
    """The JWS inside a pasted ``shc:/`` text (whitespace and line breaks from a scanner are ignored)."""
    text = "".join(str(text or "")[:MAX_INPUT].split())
    if not text.lower().startswith(PREFIX):
        raise card_error(
            "not_shc",
            "「shc:/」で始まる文字列を貼り付けてください。",
            "Paste a text that starts with “shc:/”.",
        )
    digits = text[len(PREFIX) :]
    if re.match(r"^\d+/\d+/", digits):
        raise card_error(
            "chunked",
            "複数のQRコードに分割された証明書には対応していません。",
            "Cards split across several QR codes are not supported.",
        )
    if not _NUMERIC.match(digits) or len(digits) % 2:
        raise card_error(
            "not_numeric",
            "shc:/ の後は偶数個の数字でなければなりません。",
            "After shc:/ there must be an even number of digits.",
        )
    pairs = [int(digits[i : i + 2]) for i in range(0, len(digits), 2)]
    if any(p > 77 for p in pairs):  # 77 + 45 = "z", the last character of base64url
        raise card_error(
            "not_numeric",
            "shc:/ の数字が証明書の符号として正しくありません。",
            "The digits after shc:/ do not encode a health card.",
        )
    return "".join(chr(p + 45) for p in pairs)


QR_MASK = 2  # vertical stripes (j mod 3 == 0): no large dark areas on a numeric payload


def qr_code(shc: str) -> segno.QRCode:
    """One QR code: ``shc:/`` in byte mode, the digits in numeric mode, error correction L.

    The mask is fixed: choosing the best of the eight by the standard's penalty score took 150 ms a
    certificate (four fifths of issuing one), and every mask is valid QR that readers decode alike —
    the tests read each code back with zbar, and the browser test scans the printed page."""
    if not shc.startswith(PREFIX):
        raise ValueError("not a shc:/ text")
    return segno.make(
        [(PREFIX, consts.MODE_BYTE), (shc[len(PREFIX) :], consts.MODE_NUMERIC)],
        error="L",
        boost_error=False,
        micro=False,
        mask=QR_MASK,
    )
