"""The FHIR export: a person's history as an R4 Bundle (JP Core profiles), validated with fhir.resources,
with the right doses, authenticated like the API, audited as an export, never the My Number."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from sesshu.accounts.models import ApiToken
from sesshu.addressee.mynumber import register_issued_numbers
from sesshu.addressee.services import WITHHELD_JA
from sesshu.audit.models import AuditEvent
from sesshu.immunization import fhir
from sesshu.immunization.models import Lot, Maker, Product, RecordStatus, VaccinationRecord

from .conftest import sample_mynumber
from .factories import make_household, make_resident, make_staff, make_vaccination

pytestmark = pytest.mark.django_db


@pytest.fixture
def child():
    _, person = make_resident(make_household(), given=("翔太", "ショウタ"), birth_date=date(2020, 4, 1))
    maker = Maker.objects.create(code="BIKEN", name="阪大微生物病研究会")
    product = Product.objects.create(
        vaccine_id="MR", maker=maker, code="P-MR", name="乾燥弱毒生麻しん風しん混合ワクチン",
        standard_volume_ml=Decimal("0.5"), hot_code="123456789",
    )  # fmt: skip
    lot = Lot.objects.create(product=product, lot_number="MR001", expires_on=date(2022, 3, 31))
    mr = make_vaccination(person, "MR", 1, date(2021, 4, 10))
    VaccinationRecord.objects.filter(pk=mr.pk).update(
        product=product, lot=lot, lot_number="MR001", volume_ml=Decimal("0.5"), maker_name=maker.name,
        product_name=product.name, vaccinating_doctor_name="佐藤 一郎", ticket_number="9920110000012345",
    )  # fmt: skip
    make_vaccination(person, "BCG", 1, date(2020, 10, 1))
    gone = make_vaccination(person, "Hib", 1, date(2020, 6, 1))
    VaccinationRecord.objects.filter(pk=gone.pk).update(status=RecordStatus.DELETED)
    register_issued_numbers([(person.pk, sample_mynumber(7))])
    return person


def get_json(client, url, **extra):
    response = client.get(url, **extra)
    assert response["Content-Type"].startswith("application/fhir+json"), response.content[:300]
    return response, json.loads(response.content)


def test_everything_is_a_valid_r4_bundle_with_the_patient_and_the_active_doses(client, child):
    client.force_login(make_staff("clerk"))
    response, body = get_json(client, reverse("fhir:everything", args=[child.pk]))
    assert response.status_code == 200
    bundle = Bundle.model_validate(body)  # fhir.resources R4B: wire-compatible with R4 for these resources
    assert bundle.type == "searchset"
    kinds = [e["resource"]["resourceType"] for e in body["entry"]]
    assert kinds == ["Patient", "Immunization", "Immunization"]
    patient = body["entry"][0]["resource"]
    assert patient["meta"]["profile"] == [fhir.JP_PATIENT]
    assert patient["birthDate"] == "2020-04-01" and patient["gender"] == "male"
    assert [n["text"] for n in patient["name"]] == ["田中 翔太", "タナカ ショウタ"]
    doses = [e["resource"] for e in body["entry"][1:]]
    assert [(d["vaccineCode"]["coding"][-2]["code"], d["occurrenceDateTime"]) for d in doses] == [
        ("BCG", "2020-10-01"),
        ("MR", "2021-04-10"),
    ]  # the deleted Hib record is not exported
    mr = doses[1]
    assert mr["meta"]["profile"] == [fhir.JP_IMMUNIZATION] and mr["status"] == "completed"
    assert mr["patient"]["reference"] == body["entry"][0]["fullUrl"]
    assert {"system": fhir.HOT9, "code": "123456789", "display": "乾燥弱毒生麻しん風しん混合ワクチン"} in mr[
        "vaccineCode"
    ]["coding"]
    assert {"system": "http://hl7.org/fhir/sid/cvx", "code": "04"} in mr["vaccineCode"]["coding"]
    assert (mr["lotNumber"], mr["expirationDate"], mr["doseQuantity"]["value"]) == (
        "MR001",
        "2022-03-31",
        0.5,
    )
    assert mr["doseQuantity"]["system"] == "http://unitsofmeasure.org" and mr["doseQuantity"]["code"] == "mL"
    assert mr["protocolApplied"] == [{"doseNumberPositiveInt": 1}]
    assert mr["manufacturer"]["display"] == "阪大微生物病研究会"
    assert mr["performer"][0]["actor"]["display"] == "佐藤 一郎"
    assert {"system": fhir.TICKET_NUMBER, "value": "9920110000012345"} in mr["identifier"]


def test_immunization_search_by_patient_returns_the_doses(client, child):
    client.force_login(make_staff("supervisor"))
    for patient in (str(child.pk), f"Patient/{child.pk}"):
        response, body = get_json(client, reverse("fhir:immunizations") + f"?patient={patient}")
        assert response.status_code == 200
        Bundle.model_validate(body)
        assert body["total"] == 2 and {e["resource"]["resourceType"] for e in body["entry"]} == {
            "Immunization"
        }
        assert all(e["search"]["mode"] == "match" for e in body["entry"])


def test_a_bearer_token_works_and_every_export_is_audited(client, child):
    clerk = make_staff("clerk")
    _, key = ApiToken.issue(clerk, "clinic system")
    response, body = get_json(
        client, reverse("fhir:everything", args=[child.pk]), HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 200 and body["resourceType"] == "Bundle"
    event = AuditEvent.objects.filter(action="export").get()
    assert event.subjects == [child.pk] and event.actor == clerk and event.result_count == 2
    assert event.route == "fhir:everything"
    response, body = get_json(
        client, reverse("fhir:everything", args=[child.pk]), HTTP_AUTHORIZATION="Bearer nope"
    )
    assert response.status_code == 401 and body["resourceType"] == "OperationOutcome"


def test_the_my_number_is_never_exported_and_a_protected_address_is_withheld(client, child):
    child.protected = True
    child.save()
    client.force_login(make_staff("clerk"))
    response = client.get(reverse("fhir:everything", args=[child.pk]))
    text = response.content.decode()
    assert sample_mynumber(7) not in text
    patient = json.loads(text)["entry"][0]["resource"]
    assert patient["address"] == [{"text": WITHHELD_JA, "country": "JP"}]
    assert child.address not in text


def test_refusals_unknown_patients_and_bad_parameters_get_an_operation_outcome(client, child):
    client.force_login(make_staff("auditor"))
    response, body = get_json(client, reverse("fhir:everything", args=[child.pk]))
    assert response.status_code == 403 and "翔太" not in response.content.decode()
    assert AuditEvent.objects.filter(action="denied").exists()
    client.force_login(make_staff("clerk"))
    response, body = get_json(client, reverse("fhir:everything", args=[987654]))
    assert response.status_code == 404 and "No such person" in body["issue"][0]["diagnostics"]
    failed = AuditEvent.objects.order_by("-id").first()
    assert (failed.outcome, failed.criteria) == ("failed", {"person_id": 987654})
    for bad in ("", "?patient=abc", "?patient=Practitioner/1"):
        response, body = get_json(client, reverse("fhir:immunizations") + bad)
        assert response.status_code == 400 and "patient" in body["issue"][0]["diagnostics"]
    client.logout()
    response, body = get_json(
        client, reverse("fhir:immunizations") + "?patient=1", HTTP_ACCEPT="application/fhir+json"
    )
    assert response.status_code == 401


def test_a_screening_without_vaccination_is_a_not_done_immunization(client, child):
    VaccinationRecord.objects.filter(vaccine="BCG").update(screening_only=True, not_vaccinated_reason="発熱")
    client.force_login(make_staff("clerk"))
    _, body = get_json(client, reverse("fhir:immunizations") + f"?patient={child.pk}")
    Bundle.model_validate(body)
    bcg = next(e["resource"] for e in body["entry"] if e["resource"]["occurrenceDateTime"] == "2020-10-01")
    assert bcg["status"] == "not-done" and bcg["statusReason"] == {"text": "発熱"}
