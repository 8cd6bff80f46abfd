"""The notice screens as a clerk uses them: start a batch, follow it, download, reissue, look a ticket
up; bad input answered in Japanese with nothing written; the person page's notice history."""

from datetime import date

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from sesshu.audit.models import AuditEvent
from sesshu.immunization.extraction import fiscal_year, fiscal_year_of, run_batch, start_batch
from sesshu.immunization.models import ExtractionBatch, ExtractionRun, Notice, NoticeStatus, RunStatus
from sesshu.immunization.notices.tickets import format_ticket_number

from .factories import make_household, make_resident, make_staff, make_vaccination

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 11, 23)


@pytest.fixture
def clerk(client):
    user = make_staff("clerk")
    client.force_login(user)
    return user


@pytest.fixture
def town(db):
    household = make_household()
    _, child = make_resident(household, given=("翔太", "ショウタ"), birth_date=date(2020, 4, 1))
    make_vaccination(child, "MR", 1, date(2021, 4, 10))
    _, elder = make_resident(
        household, given=("一郎", "イチロウ"), birth_date=date(1948, 8, 8), is_head=False
    )
    return {"child": child, "elder": elder}


def reminders(series=("JE-1",)):
    """2026年度 reminders: the child (born 2020-04-01, no 日本脳炎 yet, standard period over) is in it."""
    return run_batch(start_batch("reminder", fiscal_year(2026), list(series), as_of=AS_OF).pk)


def test_a_clerk_starts_an_extraction_and_sees_its_counts(
    client, clerk, town, django_capture_on_commit_callbacks
):
    page = client.get(reverse("notices:batches"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "麻しん・風しん 第2期" in html and 'value="MR-2"' in html and "高齢者インフルエンザ" in html
    year = fiscal_year_of(timezone.localdate())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("notices:start"),
            {"purpose": "notice", "period_kind": "fiscal_year", "period": str(year), "series": ["Flu"]},
        )
    batch = ExtractionBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("notices:batch", args=[batch.pk])
    run = batch.runs.get()
    assert run.status == RunStatus.DONE  # the immediate task backend ran it inside the request
    assert (run.started_by, run.as_of) == (clerk, timezone.localdate())
    detail = client.get(response["Location"]).content.decode()
    assert 'id="total">1<' in detail and "高齢者インフルエンザ" in detail and "一郎" in detail
    assert "csv-cp932" in detail and "pdf-part" in detail
    run_event = AuditEvent.objects.get(action="create", object_type="notice")
    assert run_event.actor == clerk and run_event.subjects == [town["elder"].pk]


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"period_kind": "fiscal_year", "period": "2026", "series": []}, "no_series"),
        ({"period_kind": "month", "period": "2026-13", "series": ["Flu"]}, "invalid_period"),
        ({"period_kind": "fiscal_year", "period": "2026", "series": ["<script>"]}, "unknown_series"),
        ({"period_kind": "week", "period": "2026", "series": ["Flu"]}, "invalid_period_kind"),
    ],
)
def test_bad_input_is_refused_in_japanese_and_nothing_is_made(client, clerk, town, form, code):
    response = client.post(reverse("notices:start"), {"purpose": "notice", **form})
    assert response.status_code == 400
    assert f'data-code="{code}"' in response.content.decode()
    assert "<script>" not in response.content.decode().split("problems")[1][:300]
    assert not ExtractionBatch.objects.exists() and not ExtractionRun.objects.exists()


def test_downloads_are_files_of_the_chosen_encoding(client, clerk, town):
    batch = reminders().batch
    cp932 = client.get(reverse("notices:csv", args=[batch.pk]) + "?encoding=cp932")
    assert (
        cp932["Content-Type"] == "text/csv; charset=Shift_JIS"
        and "attachment" in cp932["Content-Disposition"]
    )
    assert "田中 翔太".encode("cp932") in cp932.content
    utf8 = client.get(reverse("notices:csv", args=[batch.pk]) + "?encoding=utf-8")
    assert utf8.content.startswith("\ufeff接種券番号".encode())
    pdf = client.get(reverse("notices:pdf", args=[batch.pk]) + "?part=1")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert pdf["Cache-Control"] == "no-store"
    wrong = client.get(reverse("notices:csv", args=[batch.pk]) + "?encoding=latin-1", follow=True)
    assert "CP932 か UTF-8" in wrong.content.decode()
    assert client.get(reverse("notices:pdf", args=[batch.pk]) + "?part=9", follow=True).status_code == 200
    assert client.get(reverse("notices:csv", args=[987654])).status_code == 404


def test_a_reissue_on_screen_needs_a_reason_and_voids_the_old_ticket(client, clerk, town):
    notice = Notice.objects.get(batch=reminders().batch, person=town["child"])
    page = client.get(reverse("notices:notice", args=[notice.pk])).content.decode()
    assert format_ticket_number(notice.ticket_number) in page and 'id="reissue"' in page
    refused = client.post(reverse("notices:reissue", args=[notice.pk]), {"reason": "   "})
    assert refused.status_code == 400 and "再発行の理由を入力してください" in refused.content.decode()
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ISSUED
    done = client.post(reverse("notices:reissue", args=[notice.pk]), {"reason": "汚損のため"}, follow=True)
    new = Notice.objects.get(reissue_of=notice)
    assert done.redirect_chain[-1][0] == reverse("notices:notice", args=[new.pk])
    html = done.content.decode()
    assert format_ticket_number(new.ticket_number) in html and "汚損のため" in html
    old_page = client.get(reverse("notices:notice", args=[notice.pk])).content.decode()
    assert 'id="reissue"' not in old_page and new.ticket_number in old_page
    assert client.post(reverse("notices:reissue", args=[987654]), {"reason": "x"}).status_code == 404


def test_the_person_page_lists_the_notices_sent(client, clerk, town):
    notice = Notice.objects.get(batch=reminders().batch, person=town["child"])
    html = client.get(reverse("immunization:person", args=[town["child"].pk])).content.decode()
    section = html.split('id="notices"')[1]
    assert notice.ticket_number in section and "JE-1" in section
    elder = client.get(reverse("immunization:person", args=[town["elder"].pk])).content.decode()
    assert notice.ticket_number not in elder


def test_a_ticket_number_is_looked_up_and_a_wrong_one_explained(client, clerk, town):
    notice = Notice.objects.get(batch=reminders().batch, person=town["child"])
    found = client.get(reverse("notices:find"), {"ticket_number": format_ticket_number(notice.ticket_number)})
    assert found["Location"] == reverse("notices:notice", args=[notice.pk])
    typo = notice.ticket_number[:-1] + str((int(notice.ticket_number[-1]) + 3) % 10)
    wrong = client.get(reverse("notices:find"), {"ticket_number": typo}, follow=True)
    assert "検査数字が合いません" in wrong.content.decode()
    event = AuditEvent.objects.filter(action="search").last()
    assert event.outcome == "failed" and typo not in str(event.criteria)


def test_an_interrupted_run_is_resumed_or_rolled_back_from_the_batch_page(
    client, clerk, town, django_capture_on_commit_callbacks
):
    run = start_batch("notice", fiscal_year(2026), ["Flu"], as_of=AS_OF)
    ExtractionRun.objects.filter(pk=run.pk).update(status=RunStatus.INTERRUPTED)
    page = client.get(reverse("notices:batch", args=[run.batch_id])).content.decode()
    assert 'data-state="interrupted"' in page and reverse("notices:resume") in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notices:resume"), {"run": run.pk})
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.written == 1
    other = start_batch("notice", fiscal_year(2026), ["MR-2"], as_of=AS_OF)
    ExtractionRun.objects.filter(pk=other.pk).update(status=RunStatus.INTERRUPTED)
    client.post(reverse("notices:rollback"), {"run": other.pk})
    other.refresh_from_db()
    assert other.status == RunStatus.ROLLED_BACK
    done = client.post(reverse("notices:rollback"), {"run": run.pk}, follow=True)
    assert "完了した回は取り消せません" in done.content.decode()
    assert client.post(reverse("notices:resume"), {"run": "x"}).status_code == 404


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_with_the_database_queue_the_page_waits_for_the_worker_then_shows_the_result(
    client, clerk, town, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("notices:start"),
            {"purpose": "notice", "period_kind": "fiscal_year", "period": "2026", "series": ["Flu"]},
        )
    batch = ExtractionBatch.objects.get()
    status_url = reverse("notices:status") + f"?batch={batch.pk}"
    waiting = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert "sesshu db_worker" in waiting and 'hx-trigger="every 1s"' in waiting
    assert batch.runs.get().status == RunStatus.QUEUED
    # What `sesshu db_worker` does with the queued task (its loop closes database connections between
    # tasks, which a test inside a transaction cannot allow, so the one task is run as its loop would).
    queued = DBTaskResult.objects.ready().get()
    queued.claim("test-worker")
    Worker(
        queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
        max_tasks=1, worker_id="test-worker", excluded_queue_names=[],
    ).run_task(queued)  # fmt: skip
    finished = client.get(status_url + "&was_active=1", HTTP_HX_REQUEST="true")
    assert finished["HX-Refresh"] == "true" and 'data-state="done"' in finished.content.decode()
    assert batch.runs.get().status == RunStatus.DONE
    assert AuditEvent.objects.get(action="create", object_type="notice").actor == clerk
