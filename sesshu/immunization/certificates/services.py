"""Issuing, listing, printing, revoking and verifying certificates; each an audit event naming the person.

- ``issue_completion``: a 予防接種済証 for one record (PDF, no QR).
- ``issue_vaccination_certificate``: a 接種証明書, domestic or overseas, for chosen records: a SMART Health
  Card signed with the city's key, registered with its ID; passport data (overseas only) kept with it.
- ``certificate_pdf``: the PDF of a registered certificate, drawn again from its snapshot (the same bytes
  every time), stamped 「失効 REVOKED」 once revoked.
- ``revoke``: with a reason; a revoked card's ``rid`` is listed in the published revocation list.
- ``verify``: is a ``shc:/`` text genuine (our key, our ``iss``, not revoked), and what does it say.
"""

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from sesshu.addressee.models import Person
from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record
from sesshu.core.problems import Problem, ProblemList
from sesshu.core.text import nfkc

from ..models import CertificateKind, CertificatePassport, VaccinationCertificate, VaccinationRecord
from . import keys, shc
from .pdf import CertificateDocument, DoseLine, PassportLine, missing_glyphs, render_certificate
from .shc import HealthCardError, card_error

PURPOSE_ISSUE = "予防接種証明書の交付 (vaccination certificates: issuance)"
PURPOSE_VIEW = "予防接種証明書の照会 (vaccination certificates: lookup)"
PURPOSE_REGISTER = "予防接種証明書 交付簿の閲覧 (vaccination certificates: issuance register)"
PURPOSE_REVOKE = "予防接種証明書の失効 (vaccination certificates: revocation)"
PURPOSE_VERIFY = "予防接種証明書の真正性確認 (vaccination certificates: verification)"
OBJECT_TYPE = "vaccination_certificate"
ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U to misread
DEFAULT_CITY_NAME = "東和県桜ヶ丘市"
DEFAULT_MAYOR_TITLE = "桜ヶ丘市長"


def city_name() -> str:
    return getattr(settings, "SESSHU_CITY_NAME", DEFAULT_CITY_NAME)


def mayor_title() -> str:
    return getattr(settings, "SESSHU_MAYOR_TITLE", DEFAULT_MAYOR_TITLE)


def new_certificate_id() -> str:
    """12 random characters in three groups ("7KQ2-M9XD-4HPA"): 60 bits, so an ID tells nothing and
    cannot be guessed; it is also the card's ``rid`` (base64url characters, under 24)."""
    raw = "".join(secrets.choice(ID_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def not_found() -> Problem:
    return Problem("not_found", "該当する証明書がありません。", "No such certificate.")


def person_not_found() -> Problem:
    return Problem("not_found", "該当する人が見つかりません。", "No such person.")


# Records ------------------------------------------------------------------------------------------------


def records_of(person: Person):
    """The doses a certificate may show: active records of doses actually given."""
    records = VaccinationRecord.objects.given().filter(person=person)
    return records.select_related("vaccine").order_by("vaccinated_on", "vaccine__sort_order", "dose_number")


def _text(value) -> str:
    return str(value or "").strip()


def dose_line(rec: VaccinationRecord) -> dict:
    """What a certificate prints of one record (kept as the snapshot). Product and maker are read from
    the record's own fields or its product master, when the record model has them."""
    product = _text(getattr(rec, "product_name", ""))
    maker = _text(getattr(rec, "maker_name", ""))
    master = getattr(rec, "product", None) if hasattr(rec, "product_id") and rec.product_id else None
    if master is not None:
        product = product or _text(master.name)
        maker = maker or _text(getattr(getattr(master, "maker", None), "name", ""))
    clinic = _text(rec.clinic_name)
    if not clinic and getattr(rec, "clinic_id", None):
        clinic = _text(rec.clinic.name)
    return {
        "record_id": rec.pk,
        "vaccine_code": rec.vaccine_id,
        "vaccine_ja": rec.vaccine.name_ja,
        "vaccine_en": rec.vaccine.name_en,
        "dose_number": rec.dose_number,
        "vaccinated_on": rec.vaccinated_on.isoformat(),
        "lot_number": _text(rec.lot_number),
        "clinic": clinic,
        "product": product,
        "maker": maker,
    }


# Passport data ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PassportData:
    family_name_latin: str
    given_name_latin: str
    nationality: str
    passport_number: str
    other_names: str = ""

    @property
    def latin_name(self) -> str:
        return " ".join(p for p in (self.family_name_latin, self.given_name_latin) if p)


def _latin(value, field_name: str, ja: str, en: str, problems: list, required: bool) -> str:
    text = " ".join(nfkc(_text(value)).upper().split())
    if not text:
        if required:
            problems.append(Problem("required", f"{ja}を入力してください。", f"Enter the {en}.", field_name))
        return ""
    if len(text) > 60 or any(not (ch.isascii() and (ch.isalpha() or ch in " -'.")) for ch in text):
        problems.append(
            Problem(
                "invalid_latin",
                f"{ja}は旅券のとおりローマ字（A-Z）で60文字以内で入力してください。",
                f"Enter the {en} in Latin letters (A-Z) as in the passport, at most 60.",
                field_name,
            )
        )
    return text


def parse_passport(data) -> PassportData:
    """Passport data as typed at the counter, checked; raises ProblemList with every problem found."""
    problems: list[Problem] = []
    family = _latin(
        data.get("family_name_latin"),
        "family_name_latin",
        "ローマ字氏名（姓）",
        "family name",
        problems,
        True,
    )
    given = _latin(
        data.get("given_name_latin"), "given_name_latin", "ローマ字氏名（名）", "given name", problems, False
    )
    nationality = nfkc(_text(data.get("nationality"))).upper()
    if not (len(nationality) == 3 and nationality.isascii() and nationality.isalpha()):
        problems.append(
            Problem(
                "invalid_nationality",
                "国籍は旅券の国名コード（英字3文字、例: JPN）で入力してください。",
                "Enter the nationality as the passport's three-letter code (e.g. JPN).",
                "nationality",
            )
        )
    number = "".join(nfkc(_text(data.get("passport_number"))).upper().split())
    if not (5 <= len(number) <= 20 and number.isascii() and number.isalnum()):
        problems.append(
            Problem(
                "invalid_passport_number",
                "旅券番号は英数字5〜20文字で入力してください（例: TZ1234567）。",
                "Enter the passport number as 5 to 20 letters and digits (e.g. TZ1234567).",
                "passport_number",
            )
        )
    other = " ".join(nfkc(_text(data.get("other_names"))).split())
    if len(other) > 100 or any(ord(ch) < 32 for ch in other):
        problems.append(
            Problem(
                "too_long",
                "旧姓・別姓・別名は100文字以内で入力してください。",
                "Other names must be at most 100 characters.",
                "other_names",
            )
        )
    if problems:
        raise ProblemList(problems)
    return PassportData(family, given, nationality, number, other)


PASSPORT_FIELDS = ("family_name_latin", "given_name_latin", "nationality", "passport_number", "other_names")


def has_passport_input(data) -> bool:
    return any(_text(data.get(name)) for name in PASSPORT_FIELDS)


# The document -------------------------------------------------------------------------------------------


def _document(
    certificate: VaccinationCertificate, passport: CertificatePassport | None
) -> CertificateDocument:
    contents = certificate.contents
    doses = [
        DoseLine(
            dose_number=d["dose_number"],
            vaccine_ja=d["vaccine_ja"],
            vaccine_en=d["vaccine_en"],
            vaccinated_on=date.fromisoformat(d["vaccinated_on"]),
            lot_number=d.get("lot_number", ""),
            clinic=d.get("clinic", ""),
            product=d.get("product", ""),
            maker=d.get("maker", ""),
        )
        for d in contents["doses"]
    ]
    passport_line = None
    latin_name = contents.get("latin_name", "")
    if passport is not None:
        latin_name = " ".join(p for p in (passport.family_name_latin, passport.given_name_latin) if p)
        passport_line = PassportLine(
            latin_name, passport.nationality, passport.passport_number, passport.other_names
        )
    return CertificateDocument(
        kind=certificate.kind,
        certificate_id=certificate.certificate_id,
        issued_on=timezone.localdate(certificate.issued_at),
        city_name=contents["city_name"],
        mayor_title=contents["mayor_title"],
        name=contents["name"],
        name_kana=contents.get("name_kana", ""),
        birth_date=date.fromisoformat(contents["birth_date"]),
        address=contents.get("address", ""),
        doses=doses,
        passport=passport_line,
        latin_name=latin_name,
        shc=shc.to_numeric(certificate.jws) if certificate.jws else "",
        revoked=certificate.revoked,
    )


def _unprintable(characters) -> Problem:
    codes = " ".join(f"U+{ord(c):04X}" for c in sorted(set(characters)))[:60]
    return Problem(
        "unprintable_characters",
        f"印字できない文字（外字）が含まれています（{codes}）。外字の登録が必要です。",
        f"The record contains characters the certificate font cannot print ({codes}); "
        "they must be registered as 外字 first.",
    )


def _person(person_id) -> Person:
    person = Person.objects.filter(pk=person_id).first() if str(person_id).isdigit() else None
    if person is None:
        record(
            Action.VIEW,
            purpose=PURPOSE_ISSUE,
            outcome=Outcome.FAILED,
            criteria={"person_id": str(person_id)[:20]},
        )
        raise person_not_found()
    return person


def _base_contents(person: Person) -> dict:
    return {
        "city_name": city_name(),
        "mayor_title": mayor_title(),
        "name": person.full_name,
        "name_kana": person.full_name_kana,
        "birth_date": person.birth_date.isoformat(),
    }


@dataclass
class Issued:
    certificate: VaccinationCertificate
    pdf: bytes
    shc: str = ""


def _register(
    *,
    kind: str,
    person: Person,
    records: list[VaccinationRecord],
    contents: dict,
    issued_by,
    issued_at: datetime,
    passport: PassportData | None = None,
    signer=None,
) -> Issued:
    """Number, sign, draw and register in one transaction, with one audit event."""
    for _attempt in range(5):
        certificate_id = new_certificate_id()
        try:
            with transaction.atomic():
                jws = ""
                key_id = ""
                if signer is not None:
                    key = keys.signing_key()
                    jws = signer(certificate_id, key)
                    key_id = key.thumbprint()
                certificate = VaccinationCertificate.objects.create(
                    certificate_id=certificate_id,
                    kind=kind,
                    person=person,
                    issued_at=issued_at,
                    issued_by=issued_by,
                    contents=contents,
                    key_id=key_id,
                    jws=jws,
                )
                certificate.records.set(records)
                stored_passport = None
                if passport is not None:
                    stored_passport = CertificatePassport.objects.create(
                        certificate=certificate,
                        family_name_latin=passport.family_name_latin,
                        given_name_latin=passport.given_name_latin,
                        nationality=passport.nationality,
                        passport_number=passport.passport_number,
                        other_names=passport.other_names,
                    )
                pdf = render_certificate(_document(certificate, stored_passport))
                record(
                    Action.EXPORT,
                    purpose=PURPOSE_ISSUE,
                    object_type=OBJECT_TYPE,
                    subjects=[person.pk],
                    result_count=len(records),
                    detail={
                        "certificate_id": certificate_id,
                        "kind": kind,
                        "records": [r.pk for r in records],
                        "key_id": key_id,
                        "operation": "issue",
                    },
                )
        except IntegrityError:
            if VaccinationCertificate.objects.filter(certificate_id=certificate_id).exists():
                continue  # 1 in 2^60: take another number
            raise
        return Issued(certificate, pdf, shc.to_numeric(jws) if jws else "")
    raise RuntimeError("could not allocate a certificate id")  # pragma: no cover


def issue_completion(person_id, record_id, *, issued_by) -> Issued:
    """予防接種済証 for one dose of the person."""
    person = _person(person_id)
    rec = records_of(person).filter(pk=record_id).first() if str(record_id).isdigit() else None
    if rec is None:
        record(
            Action.VIEW,
            purpose=PURPOSE_ISSUE,
            outcome=Outcome.FAILED,
            object_type="vaccination_record",
            subjects=[person.pk],
            criteria={"record_id": str(record_id)[:20]},
        )
        raise Problem(
            "unknown_record",
            "この方の接種記録に該当がありません。",
            "No such record of this person.",
            "record",
        )
    contents = _base_contents(person) | {
        # A protected person's (支援措置) address is not printed: the certificate may change hands.
        "address": "（記載省略）" if person.protected else person.address,
        "doses": [dose_line(rec)],
    }
    _check_printable(contents)
    return _register(
        kind=CertificateKind.COMPLETION,
        person=person,
        records=[rec],
        contents=contents,
        issued_by=issued_by,
        issued_at=timezone.now(),
    )


def _check_printable(contents: dict, passport: PassportData | None = None) -> None:
    doses = [
        DoseLine(d["dose_number"], d["vaccine_ja"], d["vaccine_en"], date.fromisoformat(d["vaccinated_on"]),
                 d["lot_number"], d["clinic"], d["product"], d["maker"])
        for d in contents["doses"]
    ]  # fmt: skip
    doc = CertificateDocument(
        kind="check", certificate_id="", issued_on=timezone.localdate(), city_name=contents["city_name"],
        mayor_title=contents["mayor_title"], name=contents["name"], name_kana=contents["name_kana"],
        birth_date=date.fromisoformat(contents["birth_date"]), address=contents.get("address", ""),
        doses=doses,
        passport=PassportLine(passport.latin_name, passport.nationality, passport.passport_number,
                              passport.other_names) if passport else None,
    )  # fmt: skip
    if missing := missing_glyphs(doc):
        raise ProblemList([_unprintable(missing)])


def _chosen_records(person: Person, record_ids) -> list[VaccinationRecord]:
    available = list(records_of(person))
    if record_ids is None:
        chosen = available
    else:
        wanted = {int(r) for r in record_ids if str(r).strip().isdigit()}
        chosen = [r for r in available if r.pk in wanted]
        if len(chosen) != len(wanted) or len(wanted) != len(list(record_ids)):
            raise ProblemList(
                [
                    Problem(
                        "unknown_record",
                        "この方の接種記録に該当がありません。",
                        "No such record of this person.",
                        "records",
                    )
                ]
            )
    if not chosen:
        raise ProblemList(
            [
                Problem(
                    "no_records",
                    "証明する接種記録を1件以上選んでください。",
                    "Choose at least one vaccination record to certify.",
                    "records",
                )
            ]
        )
    return chosen


def card_subject(
    kind: str, person: Person, doses: list[dict], passport: PassportData | None
) -> shc.CardSubject:
    """Who the card names: the passport's Latin name abroad, the register's name at home."""
    if kind == CertificateKind.OVERSEAS and passport is not None:
        family = passport.family_name_latin
        given = tuple(passport.given_name_latin.split()) if passport.given_name_latin else ()
    else:
        family, given = person.family_name, (person.given_name,) if person.given_name else ()
    return shc.CardSubject(
        family_name=family,
        given_names=given,
        birth_date=person.birth_date,
        doses=tuple(
            shc.Dose(d["vaccine_code"], date.fromisoformat(d["vaccinated_on"]), d["lot_number"], d["clinic"])
            for d in doses
        ),
    )


def issue_vaccination_certificate(
    person_id, kind: str, *, passport_data=None, record_ids=None, issued_by
) -> Issued:
    """接種証明書 (domestic or overseas) with its SMART Health Card; raise ProblemList for bad input.

    Overseas needs the passport data; domestic takes none (it is collected only where it is needed).
    ``record_ids`` None certifies every dose on the register.
    """
    if kind not in (CertificateKind.DOMESTIC, CertificateKind.OVERSEAS):
        raise ProblemList(
            [
                Problem(
                    "invalid_kind", "証明書の種類が正しくありません。", "Unknown kind of certificate.", "kind"
                )
            ]
        )
    person = _person(person_id)
    passport_data = passport_data or {}
    passport = None
    problems: list[Problem] = []
    if kind == CertificateKind.OVERSEAS:
        try:
            passport = parse_passport(passport_data)
        except ProblemList as exc:
            problems += exc.problems
    elif has_passport_input(passport_data):
        problems.append(
            Problem(
                "passport_not_needed",
                "日本国内用の証明書には旅券情報は不要です（入力しないでください）。",
                "The certificate for use in Japan takes no passport data: leave it empty.",
                "passport_number",
            )
        )
    try:
        chosen = _chosen_records(person, record_ids)
    except ProblemList as exc:
        problems += exc.problems
    if problems:
        raise ProblemList(problems)
    doses = [dose_line(r) for r in chosen]
    contents = _base_contents(person) | {"doses": doses, "latin_name": person.latin_name}
    _check_printable(contents, passport)
    issued_at = timezone.now()
    subject = card_subject(kind, person, doses, passport)
    issuer = keys.issuer_url()

    def signer(certificate_id: str, key) -> str:
        compact = shc.sign(shc.card_payload(issuer, issued_at, subject, rid=certificate_id), key)
        if len(compact) > shc.MAX_SINGLE_CHUNK_JWS:
            raise ProblemList(
                [
                    Problem(
                        "too_many_doses",
                        f"選んだ{len(doses)}件の接種記録は1つのQRコードに収まりません。件数を減らして2枚に分けてください。",
                        f"The {len(doses)} records chosen do not fit one QR code: choose fewer and issue two "
                        "certificates.",
                        "records",
                    )
                ]
            )
        return compact

    return _register(
        kind=kind,
        person=person,
        records=chosen,
        contents=contents,
        issued_by=issued_by,
        issued_at=issued_at,
        passport=passport,
        signer=signer,
    )


# Reading the register -----------------------------------------------------------------------------------


def _get(certificate_id: str, purpose: str) -> VaccinationCertificate:
    certificate = (
        VaccinationCertificate.objects.select_related("person", "issued_by", "revoked_by")
        .filter(certificate_id=str(certificate_id)[:24])
        .first()
    )
    if certificate is None:
        record(
            Action.VIEW,
            purpose=purpose,
            outcome=Outcome.FAILED,
            object_type=OBJECT_TYPE,
            criteria={"certificate_id": str(certificate_id)[:24]},
        )
        raise not_found()
    return certificate


def passport_of(certificate: VaccinationCertificate) -> CertificatePassport | None:
    return CertificatePassport.objects.filter(certificate=certificate).first()


def certificate_detail(certificate_id: str) -> tuple[VaccinationCertificate, CertificatePassport | None]:
    certificate = _get(certificate_id, PURPOSE_VIEW)
    passport = passport_of(certificate)
    record(
        Action.VIEW,
        purpose=PURPOSE_VIEW,
        object_type=OBJECT_TYPE,
        subjects=[certificate.person_id],
        detail={"certificate_id": certificate.certificate_id},
    )
    return certificate, passport


def certificate_pdf(certificate_id: str) -> tuple[VaccinationCertificate, bytes]:
    certificate = _get(certificate_id, PURPOSE_ISSUE)
    pdf = render_certificate(_document(certificate, passport_of(certificate)))
    record(
        Action.EXPORT,
        purpose=PURPOSE_ISSUE,
        object_type=OBJECT_TYPE,
        subjects=[certificate.person_id],
        detail={"certificate_id": certificate.certificate_id, "kind": certificate.kind, "operation": "pdf"},
    )
    return certificate, pdf


@dataclass
class PersonCertificates:
    person: Person
    records: list[VaccinationRecord]
    certificates: list[VaccinationCertificate]


def person_certificates(person_id) -> PersonCertificates:
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        record(Action.VIEW, purpose=PURPOSE_VIEW, outcome=Outcome.FAILED, criteria={"person_id": person_id})
        raise person_not_found()
    records = list(records_of(person))
    certificates = list(VaccinationCertificate.objects.filter(person=person).select_related("issued_by"))
    record(
        Action.VIEW,
        purpose=PURPOSE_VIEW,
        object_type=OBJECT_TYPE,
        subjects=[person.pk],
        result_count=len(certificates),
        detail={"certificates": [c.certificate_id for c in certificates]},
    )
    return PersonCertificates(person, records, certificates)


def register_page(queryset_page) -> None:
    """Log the reading of one page of the issuance register (whose certificates went to whom)."""
    items = list(queryset_page.object_list)
    record(
        Action.VIEW,
        purpose=PURPOSE_REGISTER,
        object_type=OBJECT_TYPE,
        subjects=[c.person_id for c in items],
        criteria={"page": queryset_page.number},
        result_count=queryset_page.paginator.count,
        detail={"certificates": [c.certificate_id for c in items]},
    )


# Revocation ---------------------------------------------------------------------------------------------


def revoke(certificate_id: str, reason: str, *, revoked_by) -> VaccinationCertificate:
    reason = " ".join(_text(reason).split())
    if not reason or len(reason) > 500:
        raise ProblemList(
            [
                Problem(
                    "reason_required",
                    "失効の理由を500文字以内で入力してください。",
                    "Give the reason for the revocation (at most 500 characters).",
                    "reason",
                )
            ]
        )
    with transaction.atomic():
        certificate = _get(certificate_id, PURPOSE_REVOKE)
        certificate = VaccinationCertificate.objects.select_for_update().get(pk=certificate.pk)
        if certificate.revoked:
            raise ProblemList(
                [
                    Problem(
                        "already_revoked",
                        "この証明書は失効済みです。",
                        "This certificate is already revoked.",
                    )
                ]
            )
        certificate.revoked_at = timezone.now()
        certificate.revoked_by = revoked_by
        certificate.revocation_reason = reason
        certificate.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
        record(
            Action.CHANGE,
            purpose=PURPOSE_REVOKE,
            object_type=OBJECT_TYPE,
            subjects=[certificate.person_id],
            detail={"certificate_id": certificate.certificate_id, "operation": "revoke", "reason": reason},
        )
    return certificate


def revocation_list(kid: str) -> dict | None:
    """The card revocation list of one key, as the specification's ``/.well-known/crl/{kid}.json``."""
    if kid not in {k["kid"] for k in keys.published_keys()}:
        return None
    rids = sorted(
        VaccinationCertificate.objects.filter(key_id=kid, revoked_at__isnull=False).values_list(
            "certificate_id", flat=True
        )
    )
    # Revocations are never undone, so the count of revoked cards is a counter that only grows.
    return {"kid": kid, "method": "rid", "ctr": len(rids), "rids": rids}


def crl_version(kid: str) -> int:
    return VaccinationCertificate.objects.filter(key_id=kid, revoked_at__isnull=False).count()


# Verification -------------------------------------------------------------------------------------------


@dataclass
class Verification:
    """The answer for a pasted text: genuine or not, why, and what it says (only what the card says)."""

    genuine: bool
    revoked: bool = False
    problem: Problem | None = None
    name: str = ""
    birth_date: str = ""
    doses: list[dict] = field(default_factory=list)
    issuer: str = ""
    issued_at: datetime | None = None
    rid: str = ""
    certificate: VaccinationCertificate | None = None  # for staff only: the register entry

    @property
    def status(self) -> str:
        if self.genuine:
            return "genuine"
        return "revoked" if self.revoked else "invalid"


VACCINE_BY_CVX = {code: vaccine for vaccine, code in shc.CVX_CODES.items()}


def _contents(payload: dict) -> tuple[str, str, list[dict]]:
    try:
        entries = payload["vc"]["credentialSubject"]["fhirBundle"]["entry"]
        resources = [e["resource"] for e in entries]
        patient = next(r for r in resources if r.get("resourceType") == "Patient")
        name = patient.get("name", [{}])[0]
        full = " ".join([name.get("family", ""), *name.get("given", [])]).strip()
        doses = []
        for res in resources:
            if res.get("resourceType") != "Immunization":
                continue
            coding = res.get("vaccineCode", {}).get("coding", [{}])[0]
            code = coding.get("code", "")
            vaccine = VACCINE_BY_CVX.get(code, code) if coding.get("system") == shc.CVX else code
            performers = res.get("performer") or [{}]
            doses.append(
                {
                    "vaccine": vaccine,
                    "system": coding.get("system", ""),
                    "code": code,
                    "date": str(res.get("occurrenceDateTime", ""))[:10],
                    "lot_number": res.get("lotNumber", ""),
                    "performer": performers[0].get("actor", {}).get("display", ""),
                }
            )
        return full, str(patient.get("birthDate", "")), doses
    except (KeyError, IndexError, TypeError, AttributeError, StopIteration):
        raise card_error(
            "bad_payload", "証明書の内容を読み取れません。", "The card's content cannot be read."
        ) from None


def verify(text: str, *, viewer=None) -> Verification:
    """Check a ``shc:/`` text. Staff (``viewer`` with the view right) get an audit event naming the
    person and the register entry; the public page writes nothing about what was pasted."""
    try:
        compact = shc.from_numeric(text)
        card = shc.verify(compact, keys.key_set())
        issuer = card.payload.get("iss")
        if issuer != keys.issuer_url():
            raise card_error(
                "wrong_issuer",
                "発行者（iss）が当市ではありません。",
                "The issuer (iss) is not this city.",
            )
        name, birth_date, doses = _contents(card.payload)
    except HealthCardError as problem:
        if viewer is not None:
            record(
                Action.VIEW,
                purpose=PURPOSE_VERIFY,
                outcome=Outcome.FAILED,
                object_type=OBJECT_TYPE,
                detail={"result": problem.code},
            )
        return Verification(genuine=False, problem=problem)
    rid = str(card.payload.get("vc", {}).get("rid", ""))
    nbf = card.payload.get("nbf")
    issued_at = (
        datetime.fromtimestamp(nbf, tz=timezone.get_current_timezone())
        if isinstance(nbf, int | float)
        else None
    )
    certificate = VaccinationCertificate.objects.filter(certificate_id=rid).first() if rid else None
    revoked = certificate is not None and certificate.revoked
    result = Verification(
        genuine=not revoked,
        revoked=revoked,
        problem=Problem("revoked", "この証明書は失効しています。", "This certificate has been revoked.")
        if revoked
        else None,
        name=name,
        birth_date=birth_date,
        doses=doses,
        issuer=issuer,
        issued_at=issued_at,
        rid=rid,
    )
    if viewer is not None:
        result.certificate = certificate
        record(
            Action.VIEW,
            purpose=PURPOSE_VERIFY,
            object_type=OBJECT_TYPE,
            subjects=[certificate.person_id] if certificate else [],
            detail={"result": result.status, "certificate_id": rid},
        )
    return result
