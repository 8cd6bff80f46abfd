"""対象者抽出 end to end: who is selected, who is not, reruns, protected persons, reminders, and what a
failed or killed run leaves behind (nothing released, never half a batch)."""

from datetime import date

import pytest

from sesshu.addressee.models import Person
from sesshu.audit.models import AuditEvent
from sesshu.audit.services import verify_chain
from sesshu.core.problems import Problem
from sesshu.immunization import extraction
from sesshu.immunization.extraction import (
    fiscal_year,
    month,
    parse_period,
    rollback_run,
    run_batch,
    start_batch,
)
from sesshu.immunization.models import ExtractionRun, MailTo, Notice, RunStatus
from sesshu.immunization.notices import services

from .factories import make_household, make_resident, make_staff, make_vaccination

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 11, 23)
FY2026 = fiscal_year(2026)


def resident(birth: date, given: str, *, status="resident", sex="M", household=None, **extra) -> Person:
    _, person = make_resident(
        household or make_household(),
        given=(given, "タロウ"),
        birth_date=birth,
        sex=sex,
        status=status,
        **extra,
    )
    if status != "resident":
        Person.objects.filter(pk=person.pk).update(status=status)
        person.refresh_from_db()
    return person


@pytest.fixture
def city():
    """Children of the school year entering primary school in April 2027 (MR 第2期 in 2026年度), older
    people (高齢者インフルエンザ), and the ones who must be left out."""
    p = {}
    p["due"] = resident(date(2020, 6, 1), "一郎")
    make_vaccination(p["due"], "MR", 1, date(2021, 6, 10))
    p["april_1"] = resident(date(2021, 4, 1), "四月")  # an April 1 birthday: the earlier school year
    p["april_2"] = resident(date(2021, 4, 2), "次年")  # next year's school year: not yet
    p["complete"] = resident(date(2020, 7, 1), "完了")
    make_vaccination(p["complete"], "MR", 1, date(2021, 7, 10))
    make_vaccination(p["complete"], "MR", 2, date(2026, 5, 1))
    p["dead"] = resident(date(2020, 8, 1), "死亡", status="deceased")
    p["moved"] = resident(date(2020, 9, 1), "転出", status="moved_out")
    p["elder"] = resident(date(1950, 1, 1), "長老")
    hidden_home = make_household(address="東和県桜ヶ丘市秘町9丁目9番9号", postal_code="359-0009")
    p["elder_protected"] = resident(date(1952, 5, 5), "保護", sex="F", household=hidden_home)
    Person.objects.filter(pk=p["elder_protected"].pk).update(
        protected=True,
        alternative_postal_code="359-0099",
        alternative_address="東和県桜ヶ丘市本町1-1 私書箱12",
    )
    p["child_protected"] = resident(date(2020, 10, 10), "秘匿")
    Person.objects.filter(pk=p["child_protected"].pk).update(protected=True)  # no mailing address yet
    p["young"] = resident(date(1970, 1, 1), "壮年")
    return p


def extract(series, period=FY2026, purpose="notice", as_of=AS_OF, **kw):
    run = start_batch(purpose, period, series, as_of=as_of)
    return run_batch(run.pk, **kw)


def targets(run, series=None) -> set[int]:
    notices = Notice.objects.filter(run=run)
    if series:
        notices = notices.filter(series=series)
    return set(notices.values_list("person_id", flat=True))


def test_it_selects_the_due_and_leaves_out_the_dead_the_moved_out_and_the_complete(city):
    run = extract(["MR-2", "Flu"])
    assert run.status == RunStatus.DONE
    assert targets(run, "MR-2") == {city["due"].pk, city["april_1"].pk, city["child_protected"].pk}
    assert targets(run, "Flu") == {city["elder"].pk, city["elder_protected"].pk}
    left_out = {city[k].pk for k in ("april_2", "complete", "dead", "moved", "young")}
    assert not targets(run) & left_out
    notice = Notice.objects.get(run=run, person=city["due"], series="MR-2")
    assert (notice.dose_number, notice.deadline, notice.age) == (1, date(2027, 3, 31), 6)
    assert notice.recommended_from == date(2026, 4, 1)


def test_counts_per_series_and_age_are_kept_with_the_batch(city):
    run = extract(["MR-2", "Flu"])
    counts = extraction.batch_counts(run.batch)
    assert counts.by_series == {"Flu": 2, "MR-2": 3}
    assert counts.by_age["MR-2"] == {5: 1, 6: 2}  # ages on 2027-03-31: born 2021-04-01 is 5 ... and 6
    assert counts.by_age["Flu"] == {74: 1, 77: 1}
    assert counts.held == 1 and counts.total == 5
    assert run.rules_version and run.as_of == AS_OF


def test_a_rerun_adds_only_persons_not_yet_in_the_batch(city):
    first = extract(["MR-2", "Flu"])
    tickets = set(Notice.objects.values_list("ticket_number", flat=True))
    again = extract(["Flu", "MR-2"])  # the same parameters in another order: the same batch
    assert again.batch_id == first.batch_id and again.number == 2
    assert again.written == 0 and set(Notice.objects.values_list("ticket_number", flat=True)) == tickets
    newcomer = resident(date(2020, 12, 24), "転入")
    third = extract(["MR-2", "Flu"], as_of=date(2026, 12, 1))
    assert targets(third) == {newcomer.pk}
    assert Notice.objects.filter(batch=first.batch).count() == 6
    assert list(first.batch.runs.values_list("number", "as_of")) == [
        (1, AS_OF), (2, AS_OF), (3, date(2026, 12, 1))
    ]  # fmt: skip


def test_other_parameters_make_another_batch(city):
    fy = extract(["MR-2"])
    november = extract(["Flu"], period=month(2026, 11))
    assert fy.batch_id != november.batch_id
    assert targets(november) == {city["elder"].pk, city["elder_protected"].pk}


def test_a_protected_person_is_mailed_at_the_alternative_address_only(city):
    run = extract(["Flu", "MR-2"])
    protected = Notice.objects.get(run=run, person=city["elder_protected"])
    assert (protected.mail_to, protected.postal_code) == (MailTo.ALTERNATIVE, "359-0099")
    assert protected.address == "東和県桜ヶ丘市本町1-1 私書箱12"
    held = Notice.objects.get(run=run, person=city["child_protected"])
    assert (held.mail_to, held.address, held.postal_code) == (MailTo.HELD, "", "")
    home = city["elder_protected"].address
    assert home == "東和県桜ヶ丘市秘町9丁目9番9号"
    for encoding in ("cp932", "utf-8"):
        text = services.export_csv(run.batch, encoding).content.decode(encoding)
        assert "私書箱12" in text and home not in text
        assert held.ticket_number not in text  # a vendor never mails a held notice


def test_a_failing_run_leaves_nothing_and_can_be_run_again(city, monkeypatch):
    calls = []
    real = extraction._write_chunk

    def fail_on_third_chunk(run, batch, period, chunk):
        calls.append(len(chunk))
        if len(calls) == 3:
            raise RuntimeError("disk full")
        real(run, batch, period, chunk)

    monkeypatch.setattr(extraction, "_write_chunk", fail_on_third_chunk)
    run = start_batch("notice", FY2026, ["MR-2", "Flu"], as_of=AS_OF)
    with pytest.raises(RuntimeError):
        run_batch(run.pk, chunk_size=1)
    run.refresh_from_db()
    assert (run.status, run.error, run.written) == (RunStatus.FAILED, "RuntimeError", 0)
    assert not Notice.objects.exists()  # two chunks had been written: both gone
    assert extraction.batch_counts(run.batch).total == 0
    monkeypatch.setattr(extraction, "_write_chunk", real)
    again = extract(["MR-2", "Flu"])
    assert again.batch_id == run.batch_id and again.written == 5
    assert verify_chain().ok


def test_a_killed_run_is_not_released_and_resumes_without_duplicates(city, monkeypatch):
    real = extraction._write_chunk
    written = []

    def killed_after_two_chunks(run, batch, period, chunk):
        if len(written) == 2:
            raise KeyboardInterrupt  # the process stops here: no cleanup runs
        written.append(chunk)
        real(run, batch, period, chunk)

    monkeypatch.setattr(extraction, "_write_chunk", killed_after_two_chunks)
    run = start_batch("notice", FY2026, ["MR-2", "Flu"], as_of=AS_OF)
    with pytest.raises(KeyboardInterrupt):
        run_batch(run.pk, chunk_size=2)
    run.refresh_from_db()
    assert run.status == RunStatus.INTERRUPTED and extraction.is_interrupted(run)
    assert Notice.objects.filter(run=run).count() == 4
    # Not half a batch: nothing of it can be printed, counted or seen on a person's page.
    assert extraction.batch_counts(run.batch).total == 0
    assert services.notices_of_person(city["due"].pk) == []
    with pytest.raises(Problem) as excinfo:
        services.export_csv(run.batch, "utf-8")
    assert excinfo.value.code == "batch_not_done"
    with pytest.raises(Problem):
        start_batch("notice", FY2026, ["MR-2", "Flu"], as_of=AS_OF)  # resume or roll back first
    monkeypatch.setattr(extraction, "_write_chunk", real)
    resumed = extraction.resume_run(run.pk)
    assert resumed.status == RunStatus.DONE and resumed.written == 5
    assert Notice.objects.filter(batch=run.batch).count() == 5
    assert extraction.batch_counts(run.batch).total == 5


def test_a_killed_run_can_be_rolled_back_instead(city, monkeypatch):
    run = start_batch("notice", FY2026, ["Flu"], as_of=AS_OF)
    ExtractionRun.objects.filter(pk=run.pk).update(status=RunStatus.INTERRUPTED)
    real = extraction._write_chunk
    monkeypatch.setattr(extraction, "_write_chunk", real)
    # Written by the run before it was killed:
    extraction._claim(run.pk, resume=True)
    run.refresh_from_db()
    real(run, run.batch, FY2026, [extraction.Target(city["elder"].pk, "Flu", 1, None, None, None, None)])
    ExtractionRun.objects.filter(pk=run.pk).update(status=RunStatus.INTERRUPTED)
    assert rollback_run(run.pk) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.ROLLED_BACK and not Notice.objects.exists()
    event = AuditEvent.objects.filter(object_type="extraction_run", action="delete").last()
    assert event.result_count == 1
    with pytest.raises(Problem):
        rollback_run(run.pk)


def test_a_live_run_is_neither_started_twice_nor_rolled_back(city):
    run = start_batch("notice", FY2026, ["Flu"], as_of=AS_OF)
    extraction._claim(run.pk, resume=False)
    with pytest.raises(Problem) as excinfo:
        start_batch("notice", FY2026, ["Flu"], as_of=AS_OF)
    assert excinfo.value.code == "batch_running" and "実行中" in excinfo.value.ja
    with pytest.raises(Problem):
        rollback_run(run.pk)
    with pytest.raises(Problem):
        run_batch(run.pk, resume=True)  # its heartbeat is fresh: another process is on it


def test_reminders_select_exactly_the_started_and_the_overdue(city):
    started = resident(date(2021, 1, 15), "途中")  # JE 第1期: 1 dose of the 3, the next one due
    make_vaccination(started, "JE", 1, date(2024, 6, 1))
    never = resident(date(2020, 5, 5), "未接種")  # JE 第1期 standard period (3-4 years) is over
    ending = resident(date(2023, 3, 1), "期末")  # standard period (3-4 years) ends in this fiscal year
    on_time = resident(date(2024, 1, 10), "標準")  # it ends after this fiscal year: a notice, not a reminder
    done = resident(date(2019, 12, 1), "済み")
    for n, day in enumerate([date(2023, 1, 5), date(2023, 2, 5), date(2024, 2, 5)], start=1):
        make_vaccination(done, "JE", n, day)
    run = extract(["JE-1"], purpose="reminder")
    reminded = {n.person_id: n.reason for n in Notice.objects.filter(run=run)}
    assert reminded[started.pk] == "incomplete"
    assert reminded[never.pk] == reminded[ending.pk] == "not_started"
    assert on_time.pk not in reminded and done.pk not in reminded
    assert {city["dead"].pk, city["moved"].pk} & set(reminded) == set()
    assert Notice.objects.get(run=run, person=started).dose_number == 2


def test_the_run_is_one_audit_event_naming_every_person(city):
    run = extract(["MR-2", "Flu"])
    event = AuditEvent.objects.get(action="create", object_type="notice")
    assert set(event.subjects) == targets(run)
    assert event.result_count == 5 and event.criteria["series"] == ["Flu", "MR-2"]
    assert event.detail["notices_by_series"] == {"Flu": 2, "MR-2": 3}


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("fiscal_year", "2026", (date(2026, 4, 1), date(2027, 3, 31))),
        ("fiscal_year", "令和8", (date(2026, 4, 1), date(2027, 3, 31))),
        ("fiscal_year", "R8年度", (date(2026, 4, 1), date(2027, 3, 31))),
        ("fiscal_year", "令和元", (date(2019, 4, 1), date(2020, 3, 31))),
        ("month", "2026-11", (date(2026, 11, 1), date(2026, 11, 30))),
        ("month", "２０２７年２月", (date(2027, 2, 1), date(2027, 2, 28))),
        ("month", "令和8年2月", (date(2026, 2, 1), date(2026, 2, 28))),
    ],
)
def test_periods_are_read_as_clerks_write_them(kind, raw, expected):
    period = parse_period(kind, raw)
    assert (period.start, period.end) == expected


@pytest.mark.parametrize(
    ("kind", "raw"), [("month", "2026-13"), ("fiscal_year", "2026-11"), ("month", "x"), ("x", "2026")]
)
def test_impossible_periods_are_refused_in_both_languages(kind, raw):
    with pytest.raises(Problem) as excinfo:
        parse_period(kind, raw)
    assert excinfo.value.ja and excinfo.value.en


def test_unknown_series_are_refused(city):
    with pytest.raises(Problem) as excinfo:
        start_batch("notice", FY2026, ["MR-3"], as_of=AS_OF)
    assert excinfo.value.code == "unknown_series"
    with pytest.raises(Problem):
        start_batch("notice", FY2026, [], as_of=AS_OF)


def test_the_command_runs_a_batch_with_progress_and_prints_counts(city, capsys):
    from django.core.management import call_command

    make_staff("clerk", "cli_clerk")
    call_command("notices", "extract", "--fiscal-year", "令和8", "--series", "MR-2", "--as-of", "2026-11-23")
    out, err = capsys.readouterr()
    assert "MR-2: 3" in out and "6歳 2" in out
    assert "通知の作成" in err  # the progress bar
    batch_id = Notice.objects.first().batch_id
    call_command("notices", "list")
    assert f"batch {batch_id} notice 2026年度" in capsys.readouterr().out
