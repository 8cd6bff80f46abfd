"""The counter in the browser: a clerk issues an overseas vaccination certificate from the person page,
downloads the PDF, and anyone (not logged in) pastes the text of the PDF's QR code on the verification
page and sees that it is genuine."""

import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from sesshu.immunization.models import CertificatePassport, VaccinationCertificate

from ..factories import PASSWORD, make_staff

pytestmark = pytest.mark.browser


def run_tool(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """A poppler or zbar command line tool, with fixed arguments."""
    return subprocess.run([shutil.which(args[0]) or args[0], *args[1:]], **kwargs)  # noqa: S603


def test_issue_an_overseas_certificate_download_it_and_verify_its_qr(
    page, family, log_in, screenshot, tmp_path
):
    clerk = make_staff("clerk", "certificate_clerk")
    log_in(page, clerk.username, PASSWORD)
    page.goto(f"/persons/{family['child'].pk}/")
    # The certificates section loads its list into the person page.
    expect(page.locator("#completion-records")).to_be_visible()
    page.locator("#issue-overseas").click()

    page.locator("#family_name_latin").fill("tanaka")
    page.locator("#given_name_latin").fill("shota")
    page.locator("#nationality").fill("JPN")
    page.locator("#passport_number").fill("TZ1234567")
    page.locator("#issue").click()

    expect(page.locator("#issued-message")).to_be_visible()
    certificate = VaccinationCertificate.objects.get()
    expect(page.locator("#certificate-id")).to_have_text(certificate.certificate_id)
    assert CertificatePassport.objects.get(certificate=certificate).passport_number == "TZ1234567"
    shown = page.locator("#shc-text").input_value()
    assert shown.startswith("shc:/")
    screenshot(page, "flow-certificate-issued")

    with page.expect_download() as download_info:
        page.locator("#download-pdf").click()
    pdf = tmp_path / "certificate.pdf"
    download_info.value.save_as(pdf)
    text = run_tool(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "予防接種証明書（海外用）" in text and "Vaccination Certificate" in text and "TZ1234567" in text
    run_tool(["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf), str(tmp_path / "page")], check=True)
    scanned = run_tool(
        ["zbarimg", "--raw", "-q", str(tmp_path / "page.png")], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert scanned == shown

    # Whoever the holder shows it to: no log-in needed.
    page.locator("#logout").click()
    page.goto("/certificates/verify/")
    page.locator("#shc").fill(scanned)
    page.locator("#verify").click()
    result = page.locator("#verification-result")
    expect(result).to_have_attribute("data-status", "genuine")
    expect(page.locator("#card-name")).to_have_text("TANAKA SHOTA")
    expect(page.locator("#card-doses")).to_contain_text("2021-04-10")
    screenshot(page, "flow-certificate-verified")
