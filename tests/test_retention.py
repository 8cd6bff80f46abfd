"""Records past retention are deleted by a dry-run-first, logged job; everything younger stays."""

import io
from datetime import date

import pytest
from django.core.management import call_command

from sesshu.audit.models import AuditEvent
from sesshu.residents.models import Resident, ResidentRevision
from sesshu.residents.retention import purge_expired, retention_cutoff

from .factories import make_household, make_resident

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


@pytest.fixture
def old_and_young(db):
    household = make_household()
    old, _ = make_resident(
        household,
        given=("古", "フル"),
        birth_date=date(1800, 1, 1),
        status="deceased",
        left_on=date(1870, 1, 1),
    )
    young, _ = make_resident(
        household,
        given=("新", "シン"),
        birth_date=date(1850, 1, 1),
        status="deceased",
        left_on=date(1880, 1, 1),
        is_head=False,
    )
    living, _ = make_resident(make_household(), given=("今", "イマ"), birth_date=date(1990, 1, 1))
    return old, young, living


def test_the_cutoff_is_150_years(settings):
    assert retention_cutoff(TODAY) == date(1876, 11, 23)
    settings.SESSHU_REGISTER_RETENTION_YEARS = 10
    assert retention_cutoff(date(2024, 2, 29)) == date(2014, 2, 28)


def test_a_dry_run_counts_and_deletes_nothing(old_and_young):
    report = purge_expired(today=TODAY)
    assert report.dry_run and report.counts["residents"] == 1
    assert Resident.objects.count() == 3
    assert not AuditEvent.objects.filter(action="delete").exists()


def test_executing_deletes_only_what_is_past_retention_and_logs_it(old_and_young):
    old, young, living = old_and_young
    report = purge_expired(dry_run=False, today=TODAY)
    assert report.counts["residents"] == 1 and report.counts["revisions"] == 1
    assert set(Resident.objects.values_list("pk", flat=True)) == {young.pk, living.pk}
    assert not ResidentRevision.objects.filter(resident_id=old.pk).exists()
    event = AuditEvent.objects.get(action="delete", object_type="resident")
    assert event.subjects == [old.pk] and event.detail["cutoff"] == "1876-11-23"


def test_the_command_is_a_dry_run_unless_told(old_and_young):
    out = io.StringIO()
    call_command("register", "purge-expired", stdout=out)
    assert "dry run" in out.getvalue() and Resident.objects.count() == 3
