"""The SMART Health Card format, checked against the public specification (https://spec.smarthealth.cards)
with independent computations: the thumbprint, raw DEFLATE, the numeric encoding and a real QR decoder."""

import base64
import hashlib
import json
import shutil
import subprocess
import zlib
from datetime import UTC, date, datetime

import pytest
from fhir.resources.R4B.bundle import Bundle
from jwcrypto import jwk

from sesshu.immunization.certificates import shc
from sesshu.immunization.certificates.keys import new_key, public_jwk

ISSUER = "https://city.example.jp/shc"
SUBJECT = shc.CardSubject(
    family_name="TANAKA",
    given_names=("SHOTA",),
    birth_date=date(2020, 4, 1),
    doses=(
        shc.Dose("MR", date(2021, 4, 10), "AB123C", "桜ヶ丘こどもクリニック"),
        shc.Dose("COVID-19", date(2022, 1, 5), "FK1234", "桜ヶ丘市集団接種会場"),
    ),
)


def run_tool(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """A poppler or zbar command line tool, with fixed arguments."""
    return subprocess.run([shutil.which(args[0]) or args[0], *args[1:]], **kwargs)  # noqa: S603


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def key_set(*keys: jwk.JWK) -> jwk.JWKSet:
    result = jwk.JWKSet()
    for key in keys:
        result.add(jwk.JWK(**public_jwk(key)))
    return result


@pytest.fixture(scope="module")
def key():
    return new_key()


@pytest.fixture(scope="module")
def card(key):
    payload = shc.card_payload(ISSUER, datetime(2026, 4, 1, 9, 0, tzinfo=UTC), SUBJECT, rid="7KQ2-M9XD-4HPA")
    return payload, shc.sign(payload, key)


def test_round_trip_sign_encode_decode_verify(key, card):
    payload, compact = card
    text = shc.to_numeric(compact)
    assert text.startswith("shc:/")
    assert shc.from_numeric(text) == compact
    # A scanner may add a line break; a clerk may paste with spaces around.
    assert shc.from_numeric(f"  {text[:40]}\n{text[40:]} ") == compact
    read = shc.verify(shc.from_numeric(text), key_set(key))
    assert read.payload == payload


def test_header_follows_the_specification(key, card):
    _, compact = card
    header = json.loads(b64url_decode(compact.split(".")[0]))
    assert header == {"zip": "DEF", "alg": "ES256", "kid": header["kid"]}
    # kid = base64url(SHA-256) of the RFC 7638 canonical JWK (crv, kty, x, y in that order, no spaces).
    public = key.export_public(as_dict=True)
    canonical = json.dumps({k: public[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    assert header["kid"] == expected


def test_payload_is_raw_deflate_of_minified_json(card):
    payload, compact = card
    body = b64url_decode(compact.split(".")[1])
    with pytest.raises(zlib.error):
        zlib.decompress(body)  # a zlib header would be wrong: the spec asks for raw DEFLATE
    inflated = zlib.decompress(body, -15)
    assert json.loads(inflated) == payload
    assert b": " not in inflated and b", " not in inflated  # minified


def test_payload_shape_and_a_valid_fhir_bundle(card):
    payload, _ = card
    assert payload["iss"] == ISSUER
    assert payload["nbf"] == int(datetime(2026, 4, 1, 9, 0, tzinfo=UTC).timestamp())
    vc = payload["vc"]
    assert vc["type"][0] == "https://smarthealth.cards#health-card"
    assert "https://smarthealth.cards#immunization" in vc["type"]
    assert vc["rid"] == "7KQ2-M9XD-4HPA"
    subject = vc["credentialSubject"]
    assert subject["fhirVersion"] == "4.0.1"
    bundle = subject["fhirBundle"]
    Bundle.model_validate(bundle)  # a FHIR validator, not our own reading
    patient, mr, covid = (e["resource"] for e in bundle["entry"])
    assert [e["fullUrl"] for e in bundle["entry"]] == ["resource:0", "resource:1", "resource:2"]
    assert patient == {
        "resourceType": "Patient",
        "name": [{"family": "TANAKA", "given": ["SHOTA"]}],
        "birthDate": "2020-04-01",
    }
    assert mr["vaccineCode"]["coding"] == [{"system": "http://hl7.org/fhir/sid/cvx", "code": "04"}]
    assert covid["vaccineCode"]["coding"] == [{"system": "http://hl7.org/fhir/sid/cvx", "code": "213"}]
    assert mr["occurrenceDateTime"] == "2021-04-10" and mr["lotNumber"] == "AB123C"
    assert mr["patient"] == {"reference": "resource:0"}
    assert mr["performer"] == [{"actor": {"display": "桜ヶ丘こどもクリニック"}}]
    # Minimal resources, as the spec asks: no ids, no narrative, no meta.
    assert not any(k in r for r in (patient, mr, covid) for k in ("id", "text", "meta"))


def test_a_vaccine_without_cvx_code_gets_the_jp_code():
    coding = shc.vaccine_coding("NEW-VACCINE")
    assert coding == {"system": shc.JP_VACCINE_SYSTEM, "code": "NEW-VACCINE"}


def test_numeric_encoding_is_two_digits_per_character(card):
    _, compact = card
    text = shc.to_numeric(compact)
    digits = text[len("shc:/") :]
    assert len(digits) == 2 * len(compact)
    assert all(int(digits[2 * i : 2 * i + 2]) == ord(ch) - 45 for i, ch in enumerate(compact))


def test_a_tampered_payload_fails(key, card):
    _, compact = card
    head, body, signature = compact.split(".")
    payload = json.loads(zlib.decompress(b64url_decode(body), -15))
    payload["vc"]["credentialSubject"]["fhirBundle"]["entry"][0]["resource"]["birthDate"] = "1990-01-01"
    forged_body = base64.urlsafe_b64encode(shc.deflate(shc.minified(payload))).rstrip(b"=").decode()
    forged = shc.to_numeric(f"{head}.{forged_body}.{signature}")
    with pytest.raises(shc.HealthCardError) as caught:
        shc.verify(shc.from_numeric(forged), key_set(key))
    assert caught.value.code == "bad_signature"
    assert "改ざん" in caught.value.ja and "changed" in caught.value.en


def test_a_changed_digit_fails(key, card):
    _, compact = card
    text = shc.to_numeric(compact)
    middle = len(text) // 2
    changed = text[:middle] + ("1" if text[middle] != "1" else "2") + text[middle + 1 :]
    with pytest.raises(shc.HealthCardError):
        shc.verify(shc.from_numeric(changed), key_set(key))


def test_a_card_signed_by_another_key_fails(key):
    stranger = new_key()
    compact = shc.sign(shc.card_payload(ISSUER, datetime.now(UTC), SUBJECT), stranger)
    with pytest.raises(shc.HealthCardError) as caught:
        shc.verify(compact, key_set(key))
    assert caught.value.code == "unknown_key"
    # The stranger's signature under our kid: the signature does not verify with our key.
    _head, body, signature = compact.split(".")
    header = {"zip": "DEF", "alg": "ES256", "kid": key.thumbprint()}
    our_head = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    with pytest.raises(shc.HealthCardError) as caught:
        shc.verify(f"{our_head}.{body}.{signature}", key_set(key))
    assert caught.value.code == "bad_signature"


def test_another_algorithm_is_refused(key):
    header = base64.urlsafe_b64encode(b'{"alg":"none","zip":"DEF"}').rstrip(b"=").decode()
    with pytest.raises(shc.HealthCardError) as caught:
        shc.verify(f"{header}.e30.", key_set(key))
    assert caught.value.code in {"wrong_header", "not_a_jws"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "not_shc"),
        ("https://example.com", "not_shc"),
        ("shc:/123", "not_numeric"),
        ("shc:/12ab", "not_numeric"),
        ("shc:/9999", "not_numeric"),
        ("shc:/1/2/5676", "chunked"),
        ("shc:/" + "56" * 20, "not_a_jws"),
    ],
)
def test_malformed_text_gets_a_bilingual_reason(key, text, code):
    with pytest.raises(shc.HealthCardError) as caught:
        shc.verify(shc.from_numeric(text), key_set(key))
    assert caught.value.code == code
    assert caught.value.ja and caught.value.en


def test_qr_code_is_one_chunk_level_l_in_byte_and_numeric_segments(card, tmp_path):
    _, compact = card
    text = shc.to_numeric(compact)
    qr = shc.qr_code(text)
    assert qr.error == "L"
    assert qr.version <= 22
    assert qr.mode is None  # segno's answer for a code of more than one segment (byte + numeric)
    path = tmp_path / "card.png"
    qr.save(path, scale=4)
    decoded = run_tool(["zbarimg", "--raw", "-q", str(path)], capture_output=True, check=True, text=True)
    assert decoded.stdout.strip() == text
    # Numeric mode after the byte-mode prefix is much smaller than the whole text in byte mode.
    from segno import make

    assert qr.version < make(text, mode="byte", error="L", boost_error=False).version
