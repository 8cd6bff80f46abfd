"""Certificates as a clerk, a supervisor, a holder and a verifier see them: issuing, the PDF (read back with
poppler and a real QR decoder), passport data kept only with the certificate, verification, revocation,
keys and the command line."""

import io
import json
import shutil
import subprocess
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from sesshu.addressee.models import Person
from sesshu.audit.models import AuditEvent
from sesshu.core.problems import ProblemList
from sesshu.immunization.certificates import keys, services, shc
from sesshu.immunization.models import CertificatePassport, VaccinationCertificate

from .factories import make_staff, make_vaccination

pytestmark = pytest.mark.django_db

PASSPORT = {
    "family_name_latin": "tanaka",
    "given_name_latin": "Shota",
    "nationality": "jpn",
    "passport_number": "ＴＺ１２３４５６７",  # typed full-width at the counter: normalized
    "other_names": "",
}


def run_tool(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """A poppler or zbar command line tool, with fixed arguments."""
    return subprocess.run([shutil.which(args[0]) or args[0], *args[1:]], **kwargs)  # noqa: S603


@pytest.fixture(autouse=True)
def issuer_key(settings, tmp_path):
    """A key of this test's own, so that rotating it never touches the demo's key."""
    settings.SESSHU_SHC_KEY_PATH = str(tmp_path / "keys" / "issuer.jwk")
    settings.SESSHU_SHC_ISSUER_URL = "https://sakuragaoka.example.jp"
    return tmp_path / "keys"


def issue_overseas(family, clerk, **changes):
    return services.issue_vaccination_certificate(
        family["child"].pk, "overseas", passport_data=PASSPORT | changes, issued_by=clerk
    )


def pdf_text(pdf: bytes, tmp_path, name="cert") -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    return run_tool(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_png(pdf: bytes, tmp_path, name="cert"):
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    run_tool(["pdftoppm", "-png", "-r", "150", "-singlefile", str(path), str(tmp_path / name)], check=True)
    return tmp_path / f"{name}.png"


# Issuing and the PDF ------------------------------------------------------------------------------------


def test_overseas_certificate_pdf_is_bilingual_and_its_qr_decodes_to_the_card(family, tmp_path):
    clerk = make_staff("clerk")
    issued = issue_overseas(family, clerk)
    certificate = issued.certificate
    text = pdf_text(issued.pdf, tmp_path)
    for expected in (
        "予防接種証明書（海外用）",
        "Vaccination Certificate (for use abroad)",
        "田中 翔太",
        "TANAKA SHOTA",
        "JPN",
        "TZ1234567",
        "麻しん風しん混合",
        "Measles-rubella",
        "令和3年4月10日",
        "2021-04-10",
        "令和2年4月1日",
        "桜ヶ丘市長",
        certificate.certificate_id,
        "SMART Health Card",
    ):
        assert expected in text, expected
    png = pdf_png(issued.pdf, tmp_path)
    decoded = run_tool(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, check=True)
    assert decoded.stdout.strip() == issued.shc
    assert issued.shc == shc.to_numeric(certificate.jws)


def test_the_card_names_the_passport_name_abroad_and_the_register_name_at_home(family):
    clerk = make_staff("clerk")
    abroad = issue_overseas(family, clerk)
    home = services.issue_vaccination_certificate(family["child"].pk, "domestic", issued_by=clerk)
    names = []
    for issued in (abroad, home):
        payload = shc.verify(issued.certificate.jws, keys.key_set()).payload
        patient = payload["vc"]["credentialSubject"]["fhirBundle"]["entry"][0]["resource"]
        names.append(patient["name"][0])
        assert patient["birthDate"] == "2020-04-01"
        assert payload["iss"] == "https://sakuragaoka.example.jp"
        assert payload["vc"]["rid"] == issued.certificate.certificate_id
    assert names == [{"family": "TANAKA", "given": ["SHOTA"]}, {"family": "田中", "given": ["翔太"]}]


def test_completion_certificate_for_one_dose(family, tmp_path):
    clerk = make_staff("clerk")
    record = family["child"].vaccinations.get(vaccine_id="MR")
    issued = services.issue_completion(family["child"].pk, record.pk, issued_by=clerk)
    text = pdf_text(issued.pdf, tmp_path)
    expected_texts = ["予防接種済証", "田中 翔太", "麻しん風しん混合", "第1回", "令和3年4月10日", "AB123C"]
    expected_texts += ["桜ヶ丘こどもクリニック", "上記のとおり予防接種を行ったことを証明します", "緑町"]
    for expected in expected_texts:
        assert expected in text, expected
    assert issued.certificate.kind == "completion" and not issued.certificate.jws
    assert list(issued.certificate.records.all()) == [record]


def test_a_protected_persons_address_is_not_printed(family, tmp_path):
    Person.objects.filter(pk=family["child"].pk).update(protected=True)
    record = family["child"].vaccinations.first()
    issued = services.issue_completion(family["child"].pk, record.pk, issued_by=make_staff("clerk"))
    text = pdf_text(issued.pdf, tmp_path)
    assert "緑町" not in text and "記載省略" in text


def test_the_pdf_is_the_same_on_every_download_and_stamped_once_revoked(family, tmp_path):
    issued = issue_overseas(family, make_staff("clerk"))
    cert_id = issued.certificate.certificate_id
    assert services.certificate_pdf(cert_id)[1] == issued.pdf
    services.revoke(cert_id, "ロット番号の誤り", revoked_by=make_staff("supervisor"))
    assert "失効 REVOKED" in pdf_text(services.certificate_pdf(cert_id)[1], tmp_path)


# Passport data ------------------------------------------------------------------------------------------


def test_passport_data_is_kept_only_with_the_certificate(family):
    child = family["child"]
    before = {f.name: getattr(child, f.name) for f in Person._meta.concrete_fields}
    issued = issue_overseas(family, make_staff("clerk"), other_names="旧姓 山田")
    passport = CertificatePassport.objects.get(certificate=issued.certificate)
    assert (passport.family_name_latin, passport.given_name_latin) == ("TANAKA", "SHOTA")
    assert (passport.nationality, passport.passport_number, passport.other_names) == (
        "JPN",
        "TZ1234567",
        "旧姓 山田",
    )
    child.refresh_from_db()
    after = {f.name: getattr(child, f.name) for f in Person._meta.concrete_fields}
    assert after == before  # nothing of the passport reached the person
    assert "TZ1234567" not in json.dumps(after, default=str)
    # Nor the audit log, nor the card itself (the card carries name and birth date only).
    events = json.dumps(list(AuditEvent.objects.values("criteria", "detail", "purpose")), ensure_ascii=False)
    assert "TZ1234567" not in events
    assert "TZ1234567" not in json.dumps(shc.verify(issued.certificate.jws, keys.key_set()).payload)
    # Deleting the certificate's register entry takes the passport data with it.
    issued.certificate.records.clear()
    issued.certificate.delete()
    assert not CertificatePassport.objects.exists()


def test_the_domestic_certificate_takes_no_passport_data(family):
    with pytest.raises(ProblemList) as caught:
        services.issue_vaccination_certificate(
            family["child"].pk, "domestic", passport_data=PASSPORT, issued_by=make_staff("clerk")
        )
    assert caught.value.problems[0].code == "passport_not_needed"
    assert not VaccinationCertificate.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"family_name_latin": ""}, "required"),
        ({"family_name_latin": "田中"}, "invalid_latin"),
        ({"nationality": "日本"}, "invalid_nationality"),
        ({"passport_number": "12"}, "invalid_passport_number"),
        ({"passport_number": "TZ-1234567; DROP TABLE"}, "invalid_passport_number"),
        ({"other_names": "x" * 101}, "too_long"),
    ],
)
def test_bad_passport_data_is_refused_with_the_reason_and_nothing_written(family, changes, code):
    events = AuditEvent.objects.count()
    with pytest.raises(ProblemList) as caught:
        issue_overseas(family, make_staff("clerk"), **changes)
    problem = caught.value.problems[0]
    assert problem.code == code and problem.ja and problem.en
    assert not VaccinationCertificate.objects.exists() and not CertificatePassport.objects.exists()
    assert AuditEvent.objects.count() == events


def test_records_of_another_person_cannot_be_certified(family):
    other_record = family["mother"].vaccinations.create(
        vaccine_id="Flu", dose_number=1, vaccinated_on=date(2024, 11, 1), source="manual"
    )
    with pytest.raises(ProblemList) as caught:
        services.issue_vaccination_certificate(
            family["child"].pk, "domestic", record_ids=[other_record.pk], issued_by=make_staff("clerk")
        )
    assert caught.value.problems[0].code == "unknown_record"


def test_more_doses_than_one_qr_holds_are_refused(family):
    child = family["child"]
    for i in range(60):
        make_vaccination(child, "Flu", 1, date(1960 + i % 60, 1 + i // 60, 15))
    with pytest.raises(ProblemList) as caught:
        services.issue_vaccination_certificate(child.pk, "domestic", issued_by=make_staff("clerk"))
    assert caught.value.problems[0].code == "too_many_doses"
    assert not VaccinationCertificate.objects.exists()


def test_a_name_the_font_cannot_print_is_refused(family):
    Person.objects.filter(pk=family["child"].pk).update(
        given_name="翔\ue000"
    )  # a 外字 in the private use area
    with pytest.raises(ProblemList) as caught:
        services.issue_vaccination_certificate(family["child"].pk, "domestic", issued_by=make_staff("clerk"))
    assert caught.value.problems[0].code == "unprintable_characters"


# Verification, revocation, keys -------------------------------------------------------------------------


def test_verification_genuine_revoked_tampered_and_foreign(family, settings):
    issued = issue_overseas(family, make_staff("clerk"))
    result = services.verify(issued.shc)
    assert result.status == "genuine"
    assert (result.name, result.birth_date) == ("TANAKA SHOTA", "2020-04-01")
    assert {(d["vaccine"], d["date"]) for d in result.doses} == {("MR", "2021-04-10"), ("BCG", "2020-10-01")}

    tampered = issued.shc[:-10] + ("0" * 10 if not issued.shc.endswith("0" * 10) else "1" * 10)
    assert services.verify(tampered).status == "invalid"

    stranger = keys.new_key()
    foreign = shc.sign(shc.card_payload(keys.issuer_url(), issued.certificate.issued_at, shc.CardSubject(
        "TANAKA", ("SHOTA",), date(2020, 4, 1))), stranger)  # fmt: skip
    answer = services.verify(shc.to_numeric(foreign))
    assert answer.status == "invalid" and answer.problem.code == "unknown_key"

    settings.SESSHU_SHC_ISSUER_URL = "https://another-city.example.jp"
    assert services.verify(issued.shc).problem.code == "wrong_issuer"
    settings.SESSHU_SHC_ISSUER_URL = "https://sakuragaoka.example.jp"

    services.revoke(
        issued.certificate.certificate_id, "記載誤りのため再交付", revoked_by=make_staff("supervisor")
    )
    result = services.verify(issued.shc)
    assert result.status == "revoked" and not result.genuine
    assert "失効" in result.problem.ja and "revoked" in result.problem.en


def test_revocation_needs_a_reason_and_happens_once(family):
    issued = issue_overseas(family, make_staff("clerk"))
    supervisor = make_staff("supervisor")
    with pytest.raises(ProblemList):
        services.revoke(issued.certificate.certificate_id, "  ", revoked_by=supervisor)
    services.revoke(issued.certificate.certificate_id, "誤交付", revoked_by=supervisor)
    with pytest.raises(ProblemList) as caught:
        services.revoke(issued.certificate.certificate_id, "誤交付", revoked_by=supervisor)
    assert caught.value.problems[0].code == "already_revoked"


def test_rotation_keeps_old_cards_verifiable_and_publishes_both_keys(family, client, issuer_key):
    clerk = make_staff("clerk")
    before = issue_overseas(family, clerk)
    old_kid, new_kid = keys.rotate()
    assert old_kid == before.certificate.key_id and new_kid != old_kid
    after = issue_overseas(family, clerk)
    assert after.certificate.key_id == new_kid
    assert services.verify(before.shc).genuine and services.verify(after.shc).genuine
    published = client.get(reverse("certificates:jwks")).json()["keys"]
    assert {k["kid"] for k in published} == {old_kid, new_kid}
    retired = list(issuer_key.glob("issuer.jwk.retired-*"))
    assert [p.name for p in retired] == [f"issuer.jwk.retired-{old_kid}"]
    assert (retired[0].stat().st_mode & 0o777) == 0o600


def test_jwks_and_revocation_list_follow_the_specification(family, client):
    issued = issue_overseas(family, make_staff("clerk"))
    response = client.get(reverse("certificates:jwks"))
    assert response["Access-Control-Allow-Origin"] == "*"
    (key,) = response.json()["keys"]
    assert {k: key[k] for k in ("kty", "crv", "use", "alg")} == {
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256"
    }  # fmt: skip
    assert key["kid"] == issued.certificate.key_id == jwk_thumbprint(key)
    assert "d" not in key and "crlVersion" not in key
    services.revoke(issued.certificate.certificate_id, "誤交付", revoked_by=make_staff("supervisor"))
    assert client.get(reverse("certificates:jwks")).json()["keys"][0]["crlVersion"] == 1
    crl = client.get(reverse("certificates:crl", args=[key["kid"]])).json()
    assert crl == {"kid": key["kid"], "method": "rid", "ctr": 1, "rids": [issued.certificate.certificate_id]}
    assert client.get(reverse("certificates:crl", args=["unknown"])).status_code == 404


def jwk_thumbprint(key: dict) -> str:
    import base64
    import hashlib

    canonical = json.dumps({k: key[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def test_a_key_file_others_can_read_is_refused(settings, tmp_path):
    path = tmp_path / "open.jwk"
    path.write_text(keys.new_key().export_private(), encoding="ascii")
    path.chmod(0o644)
    settings.SESSHU_SHC_KEY_PATH = str(path)
    with pytest.raises(keys.IssuerKeyError, match="chmod 600"):
        keys.signing_key()


# The screens --------------------------------------------------------------------------------------------


def test_clerk_issues_downloads_and_anyone_verifies(family, client, tmp_path):
    clerk = make_staff("clerk")
    client.force_login(clerk)
    person_page = client.get(reverse("immunization:person", args=[family["child"].pk])).content.decode()
    assert reverse("certificates:new", args=[family["child"].pk, "overseas"]) in person_page
    records = [str(r.pk) for r in family["child"].vaccinations.all()]
    response = client.post(
        reverse("certificates:new", args=[family["child"].pk, "overseas"]), PASSPORT | {"records": records}
    )
    assert response.status_code == 302
    certificate = VaccinationCertificate.objects.get()
    detail = client.get(response["Location"]).content.decode()
    assert certificate.certificate_id in detail and "TZ1234567" in detail and "shc:/" in detail
    pdf = client.get(reverse("certificates:pdf", args=[certificate.certificate_id]))
    assert pdf["Content-Type"] == "application/pdf" and pdf["Cache-Control"] == "no-store"
    assert "Vaccination Certificate" in pdf_text(pdf.content, tmp_path)

    # The holder shows it to someone who is not logged in: the page says genuine and what the card says.
    client.logout()
    before = AuditEvent.objects.count()
    answer = client.post(reverse("certificates:verify"), {"shc": shc.to_numeric(certificate.jws)})
    page = answer.content.decode()
    assert answer.status_code == 200 and 'data-status="genuine"' in page and "TANAKA SHOTA" in page
    assert "TZ1234567" not in page and certificate.certificate_id not in page.split("Certificate ID")[0][-1:]
    assert AuditEvent.objects.count() == before  # nothing about an anonymous check is kept
    bad = client.post(reverse("certificates:verify"), {"shc": "shc:/1234"})
    assert bad.status_code == 422 and 'data-status="invalid"' in bad.content.decode()


def test_staff_verification_is_logged_with_the_person(family, client):
    issued = issue_overseas(family, make_staff("clerk"))
    supervisor = make_staff("supervisor")
    client.force_login(supervisor)
    page = client.post(reverse("certificates:verify"), {"shc": issued.shc}).content.decode()
    assert issued.certificate.certificate_id in page
    event = AuditEvent.objects.filter(actor=supervisor, purpose=services.PURPOSE_VERIFY).get()
    assert event.subjects == [family["child"].pk] and event.detail["result"] == "genuine"


def test_supervisor_revokes_on_screen_and_the_page_then_says_revoked(family, client):
    issued = issue_overseas(family, make_staff("clerk"))
    cert_id = issued.certificate.certificate_id
    clerk = make_staff("clerk")
    client.force_login(clerk)
    assert (
        client.post(reverse("certificates:revoke", args=[cert_id]), {"reason": "誤交付"}).status_code == 403
    )
    client.force_login(make_staff("supervisor"))
    empty = client.post(reverse("certificates:revoke", args=[cert_id]), {"reason": ""})
    assert empty.status_code == 400
    response = client.post(reverse("certificates:revoke", args=[cert_id]), {"reason": "誤交付"})
    assert response.status_code == 302
    client.logout()
    page = client.post(reverse("certificates:verify"), {"shc": issued.shc})
    assert page.status_code == 422 and 'data-status="revoked"' in page.content.decode()
    assert "誤交付" not in page.content.decode()  # the reason is for staff, not for whoever holds the card


def test_issue_form_shows_the_problems_in_japanese(family, client):
    client.force_login(make_staff("clerk"))
    response = client.post(
        reverse("certificates:new", args=[family["child"].pk, "overseas"]),
        PASSPORT | {"passport_number": "1", "records": []},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "旅券番号は英数字5〜20文字" in page and "証明する接種記録を1件以上選んでください" in page
    assert not VaccinationCertificate.objects.exists()


# The command line ---------------------------------------------------------------------------------------


def test_cli_issue_prints_the_card_and_is_audited_as_the_operator(family, tmp_path):
    clerk = make_staff("clerk", username="kawada")
    out, err = io.StringIO(), io.StringIO()
    pdf = tmp_path / "c.pdf"
    call_command(
        "certificate", "issue", "--person", str(family["child"].pk), "--kind", "overseas",
        "--passport-name", "TANAKA SHOTA", "--passport-number", "TZ1234567", "--nationality", "JPN",
        "--operator", "kawada", "--pdf", str(pdf), stdout=out, stderr=err,
    )  # fmt: skip
    text = out.getvalue().strip()
    assert text.startswith("shc:/") and services.verify(text).genuine
    assert pdf.stat().st_mode & 0o777 == 0o600 and pdf.read_bytes().startswith(b"%PDF")
    event = AuditEvent.objects.filter(purpose=services.PURPOSE_ISSUE, action="export").get()
    assert (event.actor_id, event.actor_username, event.route) == (
        clerk.pk,
        "kawada",
        "cli:certificate issue",
    )
    assert event.subjects == [family["child"].pk] and event.terminal.startswith("cli:")


def test_cli_refuses_an_unknown_operator_or_one_without_the_right(family):
    args = ["certificate", "issue", "--person", str(family["child"].pk), "--kind", "domestic"]
    with pytest.raises(CommandError, match="No active staff account"):
        call_command(*args, "--operator", "nobody-here")
    make_staff("auditor", username="audit-only")
    with pytest.raises(CommandError, match="does not hold the right"):
        call_command(*args, "--operator", "audit-only")
    assert AuditEvent.objects.filter(action="denied", actor_username="audit-only").exists()
    assert not VaccinationCertificate.objects.exists()


def test_cli_verify_exit_codes_and_bilingual_answers(family):
    issued = issue_overseas(family, make_staff("clerk"))
    out = io.StringIO()
    call_command("certificate", "verify", issued.shc, stdout=out)
    assert "本物です" in out.getvalue() and "Genuine" in out.getvalue() and "TANAKA SHOTA" in out.getvalue()
    with pytest.raises(SystemExit) as exited:
        call_command("certificate", "verify", "shc:/5676", stdout=io.StringIO())
    assert exited.value.code == 1
    make_staff("supervisor", username="boss")
    call_command(
        "certificate", "revoke", issued.certificate.certificate_id, "--reason", "誤交付",
        "--operator", "boss", stdout=io.StringIO(),
    )  # fmt: skip
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("certificate", "verify", issued.shc, stdout=out)
    assert exited.value.code == 3
    assert "失効しています" in out.getvalue() and "Revoked" in out.getvalue()
