"""Broken clinic files, generated: never a server error, and never a file half imported."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sesshu.immunization.models import ImportRow, Lot, Maker, Product, SourceFile, VaccinationRecord

from .factories import make_household, make_resident, make_staff

pytestmark = pytest.mark.django_db
HEADER = ["氏名カナ", "生年月日", "ワクチンコード", "接種回", "接種日", "Lot", "接種量", "医療機関コード"]
GOOD = ["タナカショウタ", "2020-04-01", "JE", "1", "R5.6.1", "JE001", "0.5", ""]
cells = st.one_of(
    st.sampled_from(
        [
            "",
            "令和7年2月30日",
            "R99.13.40",
            "-0.5",
            "0",
            "1e400",
            "NaN",
            "XYZ",
            "JE000",
            "ﾀﾅｶ ｼｮｳﾀ",
            "2019-01-01",
            "9999-12-31",
            "\x00",
            '"',
            "=cmd|' /C calc'!A0",
            "<script>alert(1)</script>",
            "9" * 400,
        ]
    ),
    st.text(max_size=30),
)
rows = st.lists(st.lists(cells, min_size=0, max_size=10), min_size=0, max_size=6)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "cp932", "utf-16", "latin-1"])


@pytest.fixture
def setting():
    biken = Maker.objects.create(code="BIKEN", name="阪大微生物病研究会")
    je = Product.objects.create(
        vaccine_id="JE", maker=biken, code="P-JE", name="ジェービックV", standard_volume_ml=Decimal("0.5")
    )
    Lot.objects.create(product=je, lot_number="JE001", expires_on=timezone.localdate() + timedelta(days=365))
    Lot.objects.create(product=je, lot_number="JE000", expires_on=date(2023, 1, 31))
    from sesshu.immunization.models import Clinic

    Clinic.objects.create(code="9900000001", name="桜ヶ丘こどもクリニック", contract_from=date(2000, 4, 1))
    make_resident(make_household(), given=("翔太", "ショウタ"), birth_date=date(2020, 4, 1))
    return make_staff("clerk")


def encode(header, body, encoding) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(body)
    return out.getvalue().encode(encoding, errors="replace")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.one_of(
        st.just(HEADER),
        st.permutations(HEADER),
        st.lists(st.sampled_from([*HEADER, "x", ""]), max_size=9),
        st.none(),
    ),
    body=rows,
    good_rows=st.integers(min_value=0, max_value=2),
    encoding=encodings,
    raw=st.one_of(st.none(), st.binary(max_size=200)),
)
def test_a_broken_file_is_refused_or_previewed_and_imported_whole(
    client, setting, header, body, good_rows, encoding, raw
):
    client.force_login(setting)
    data = raw if raw is not None else encode(header, [GOOD] * good_rows + body, encoding)
    records_before = VaccinationRecord.objects.count()
    response = client.post(
        reverse("imports:upload"),
        {"file": SimpleUploadedFile("f.csv", data, content_type="text/csv"), "clinic": "9900000001"},
    )
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 400:
        assert "problems" in response.content.decode() or "ファイル" in response.content.decode()
        return
    source = SourceFile.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert client.get(response["Location"]).status_code == 200
    rows_ = ImportRow.objects.filter(source_file=source)
    errors = rows_.filter(status="error").count()
    matched = rows_.filter(status="matched").count()
    already = source.status == "committed"
    assert client.post(reverse("imports:commit", args=[source.pk])).status_code == 302
    added = VaccinationRecord.objects.count() - records_before
    if errors or already:
        assert added == 0
    else:
        assert added == matched
