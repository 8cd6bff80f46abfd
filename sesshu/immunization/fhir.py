"""A person's vaccination history as FHIR R4: a Bundle of JP Core Immunization resources and the Patient.

Profiles: JP Core (http://jpfhir.jp/fhir/core/) JP_Patient and JP_Immunization. Every Bundle is
validated with fhir.resources' R4B models before it leaves (R4B is wire-compatible with R4 for
Patient, Immunization and Bundle; fhir.resources 8 has no plain R4 package), so an export that would
not parse is a bug caught here, not at the receiver.

Vaccine codes: the register's own code (``urn:sesshu:vaccine``, the code of the Vaccine master, the
same system the certificates use), the CDC's CVX code, and where the product master carries one the
HOT9 code JP Core binds ``vaccineCode`` to (JP_MedicationCode_Immunization_VS). The MHLW has no
published vaccine code system of its own that JP Core references; HOT codes are per product.

What is never in an export: the My Number (not read here at all), free-text notes (所見, 特記事項,
the flag note: they may name other people), records that are deleted or merged into another. A
protected person's address is withheld exactly as on the screens.
"""

from django.utils import timezone

from sesshu.addressee.models import Person, PersonStatus
from sesshu.audit.models import Action
from sesshu.audit.services import record as audit

from .certificates.shc import CVX, CVX_CODES, JP_VACCINE_SYSTEM
from .models import RecordSource, VaccinationRecord

JP_PATIENT = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient"
JP_IMMUNIZATION = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Immunization"
# MEDIS 医薬品HOTコード (9 digits) and the 10-digit 医療機関コード, in the systems JP Core v1 names.
HOT9 = "http://medis.or.jp/CodeSystem/master-HOT9"
NAME_REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
PERFORMER_FUNCTION = "http://terminology.hl7.org/CodeSystem/v2-0443"
UCUM = "http://unitsofmeasure.org"
INTEGRATED_NUMBER = "urn:sesshu:integrated-number"
RECORD_ID = "urn:sesshu:vaccination-record"
TICKET_NUMBER = "urn:sesshu:ticket-number"
CLINIC_CODE = "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no"
LEGAL_CATEGORY = "urn:sesshu:legal-category"
PAYMENT = "urn:sesshu:payment"
FHIR_JSON = "application/fhir+json"

GENDER = {"M": "male", "F": "female"}


def patient_resource(person: Person) -> dict:
    """JP_Patient: identifiers, kanji and kana names, sex, birth date, address (already masked)."""
    names = [
        _name(person.family_name, person.given_name, "IDE"),
        _name(person.family_name_kana, person.given_name_kana, "SYL"),
    ]
    if person.latin_name:
        names.append({"use": "usual", "text": person.latin_name})
    resource: dict = {
        "resourceType": "Patient",
        "id": str(person.pk),
        "meta": {"profile": [JP_PATIENT]},
        "identifier": [{"system": INTEGRATED_NUMBER, "value": person.integrated_number}],
        "name": names,
        "gender": GENDER.get(person.sex, "unknown"),
        "birthDate": person.birth_date.isoformat(),
    }
    if person.status == PersonStatus.DECEASED:
        resource["deceasedDateTime" if person.status_date else "deceasedBoolean"] = (
            person.status_date.isoformat() if person.status_date else True
        )
    if person.address:
        address = {"text": person.address, "country": "JP"}
        if person.postal_code:
            address["postalCode"] = person.postal_code
        resource["address"] = [address]
    return resource


def _name(family: str, given: str, representation: str) -> dict:
    return {
        "extension": [{"url": NAME_REPRESENTATION, "valueCode": representation}],
        "use": "official",
        "text": f"{family} {given}".strip(),
        "family": family,
        "given": [given] if given else [],
    }


def immunization_resource(record: VaccinationRecord, patient_url: str) -> dict:
    """JP_Immunization for one record (a 予診のみ row is a ``not-done`` Immunization)."""
    vaccine = record.vaccine
    codings = [{"system": JP_VACCINE_SYSTEM, "code": vaccine.code, "display": vaccine.name_ja}]
    if record.product is not None and record.product.hot_code:
        codings.insert(0, {"system": HOT9, "code": record.product.hot_code, "display": record.product.name})
    if vaccine.code in CVX_CODES:
        codings.append({"system": CVX, "code": CVX_CODES[vaccine.code]})
    resource: dict = {
        "resourceType": "Immunization",
        "id": f"rec-{record.pk}",
        "meta": {"profile": [JP_IMMUNIZATION]},
        "identifier": [{"system": RECORD_ID, "value": str(record.pk)}],
        "status": "not-done" if record.screening_only else "completed",
        "vaccineCode": {"coding": codings, "text": record.product_name or vaccine.name_ja},
        "patient": {"reference": patient_url},
        "occurrenceDateTime": record.vaccinated_on.isoformat(),
        "primarySource": not record.before_move_in and record.source != RecordSource.SYNTHETIC,
        "programEligibility": [
            {
                "coding": [
                    {
                        "system": LEGAL_CATEGORY,
                        "code": record.legal_category,
                        "display": record.get_legal_category_display(),
                    }
                ]
            }
        ],
        "fundingSource": {
            "coding": [{"system": PAYMENT, "code": record.payment, "display": record.get_payment_display()}]
        },
        "protocolApplied": [{"doseNumberPositiveInt": record.dose_number}],
    }
    if record.ticket_number:
        resource["identifier"].append({"system": TICKET_NUMBER, "value": record.ticket_number})
    if record.screening_only and record.not_vaccinated_reason:
        resource["statusReason"] = {"text": record.not_vaccinated_reason}
    if record.registered_at:
        resource["recorded"] = timezone.localtime(record.registered_at).isoformat(timespec="seconds")
    if record.before_move_in:
        resource["reportOrigin"] = {"text": "転入前接種 (vaccinated before moving in)"}
    if record.maker_name:
        resource["manufacturer"] = {"display": record.maker_name}
    if record.lot_number:
        resource["lotNumber"] = record.lot_number
    if record.lot is not None:
        resource["expirationDate"] = record.lot.expires_on.isoformat()
    if record.volume_ml is not None:
        resource["doseQuantity"] = {
            "value": float(record.volume_ml),
            "unit": "mL",
            "system": UCUM,
            "code": "mL",
        }
    performers = []
    if record.vaccinating_doctor_name:
        performers.append(
            _performer("AP", "Administering Provider", {"display": record.vaccinating_doctor_name})
        )
    if record.clinic_name:
        organisation: dict = {"display": record.clinic_name}
        if record.clinic is not None:
            organisation["identifier"] = {"system": CLINIC_CODE, "value": record.clinic.code}
        performers.append({"actor": organisation})  # the clinic: no v2-0443 function fits an organisation
    if performers:
        resource["performer"] = performers
    if record.venue:
        resource["location"] = {"display": record.venue}
    return resource


def _performer(code: str, display: str, actor: dict) -> dict:
    return {
        "function": {"coding": [{"system": PERFORMER_FUNCTION, "code": code, "display": display}]},
        "actor": actor,
    }


def exportable(person: Person):
    """The records an export shows: active ones, oldest first."""
    return (
        VaccinationRecord.objects.active()
        .filter(person=person)
        .select_related("vaccine", "product", "lot", "clinic")
        .order_by("vaccinated_on", "vaccine__sort_order", "pk")
    )


def everything_bundle(person: Person, records: list[VaccinationRecord], base: str, self_url: str) -> dict:
    """``Patient/{id}/$everything``: a searchset with the Patient and every Immunization."""
    patient_url = f"{base}Patient/{person.pk}"
    entries = [{"fullUrl": patient_url, "resource": patient_resource(person), "search": {"mode": "match"}}]
    entries += [_entry(r, base, patient_url, "include") for r in records]
    return _bundle(entries, self_url, total=1)


def immunization_bundle(person: Person, records: list[VaccinationRecord], base: str, self_url: str) -> dict:
    """``Immunization?patient={id}``: a searchset of the person's Immunization resources."""
    patient_url = f"{base}Patient/{person.pk}"
    return _bundle([_entry(r, base, patient_url, "match") for r in records], self_url, total=len(records))


def _entry(record: VaccinationRecord, base: str, patient_url: str, mode: str) -> dict:
    return {
        "fullUrl": f"{base}Immunization/rec-{record.pk}",
        "resource": immunization_resource(record, patient_url),
        "search": {"mode": mode},
    }


def _bundle(entries: list[dict], self_url: str, total: int) -> dict:
    return {
        "resourceType": "Bundle",
        "meta": {"lastUpdated": timezone.now().isoformat(timespec="seconds")},
        "type": "searchset",
        "timestamp": timezone.now().isoformat(timespec="seconds"),
        "total": total,
        "link": [{"relation": "self", "url": self_url}],
        "entry": entries,
    }


def validate(bundle: dict) -> dict:
    """Parse the Bundle with fhir.resources (R4B); raises pydantic's ValidationError when invalid."""
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)
    return bundle


def operation_outcome(code: str, ja: str, en: str, severity: str = "error") -> dict:
    """An OperationOutcome with the message in Japanese and English."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": f"{ja} / {en}"}],
    }


PURPOSE_EXPORT = "予防接種台帳 FHIR出力 (immunization register: FHIR export)"


def export(person_id: int, *, viewer, base: str, self_url: str, everything: bool) -> dict:
    """The person's Bundle, validated, written to the audit log as an export (subjects: the person).

    Raises ``services.person_not_found()`` (and logs the failed attempt) for an unknown id.
    """
    from . import services

    person = services.access_person(person_id, PURPOSE_EXPORT)
    records = list(exportable(person))
    services.mask_protected([person], viewer)
    build = everything_bundle if everything else immunization_bundle
    bundle = validate(build(person, records, base, self_url))
    audit(
        Action.EXPORT,
        purpose=PURPOSE_EXPORT,
        object_type="vaccination_record",
        subjects=[person.pk],
        result_count=len(records),
        detail={"format": "fhir+json", "operation": "$everything" if everything else "Immunization?patient"},
        actor=viewer,
    )
    return bundle
