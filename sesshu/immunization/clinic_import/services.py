"""Upload → preview → commit of a clinic file, the review queue of rows in doubt, the fee report.

Every step is an audit event whose subjects are the persons concerned. A file is imported whole or
not at all: a file with error rows cannot be committed (the clinic corrects and sends it again),
and the commit is one transaction. The same bytes twice are one ``SourceFile`` (sha256), so a file
sent again adds nothing; a dose already in the register (the dose identity: person, vaccine, 接種日,
``matching.given_doses``) is recognised — same lot: a duplicate, not imported; another lot: in doubt.
"""

import hashlib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from sesshu.addressee.models import Person, PersonStatus
from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record as audit
from sesshu.core.bulk import no_cycle_collection
from sesshu.core.problems import Problem, ProblemList

from .. import records
from ..models import (
    Clinic,
    ImportDose,
    ImportRow,
    ImportRowStatus,
    RecordSource,
    RecordStatus,
    SourceFile,
    SourceFileKind,
    SourceFileStatus,
    VaccinationRecord,
    Vaccine,
)
from . import bulk
from .layout import cells_of
from .matching import Candidate, Key, Known, Match, given_doses, match_rows
from .reading import read_rows
from .rows import Masters, Row, read_all

PURPOSE = "予防接種台帳 医療機関ファイルの取込 (immunization register: clinic file import)"
PURPOSE_REVIEW = "予防接種台帳 取込の照合確認 (immunization register: import review)"
PURPOSE_FEES = "予防接種台帳 委託料の照合 (immunization register: fee reconciliation)"
BATCH = 2000
# The kinds of file that go through upload → preview → commit and the review queue.
IMPORT_KINDS = (SourceFileKind.CLINIC_CSV, SourceFileKind.FHIR_BUNDLE)


def read_file(data: bytes) -> tuple[str, str, list[tuple[int, list]]]:
    """(kind, encoding, rows): a FHIR Bundle (JSON) or the CSV layout, told apart by the content.

    Rows are (position, [cell per layout column, in its order]) whatever the format, so both take the
    same checks, matching and review. Raises ProblemList for the whole file."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        from .fhir_bundle import read_bundle

        encoding, rows = read_bundle(data)
        return SourceFileKind.FHIR_BUNDLE, encoding, [(position, cells_of(cells)) for position, cells in rows]
    encoding, rows = read_rows(data)
    return SourceFileKind.CLINIC_CSV, encoding, rows


class AlreadyUploaded(Problem):
    """The same bytes were uploaded before: nothing is added; ``source_file`` is the earlier one."""

    source_file: SourceFile | None = None


def _problem_dict(code: str, ja: str, en: str, name: str = "person") -> dict:
    return Problem(code, ja, en, name).as_dict()


# Upload and preview ---------------------------------------------------------------------------------


def upload(
    data: bytes, file_name: str, *, clinic: Clinic | None, billing_month: date | None, actor
) -> SourceFile:
    """Read, check and match the file and keep its rows for the preview. Raises ProblemList (file)."""
    with no_cycle_collection():
        return _upload(data, file_name, clinic=clinic, billing_month=billing_month, actor=actor)


def _upload(data: bytes, file_name: str, *, clinic: Clinic | None, billing_month: date | None, actor):
    digest = hashlib.sha256(data).hexdigest()
    earlier = SourceFile.objects.filter(sha256=digest).first()
    if earlier is not None:
        when = f"{timezone.localtime(earlier.uploaded_at):%Y-%m-%d %H:%M}"
        problem = AlreadyUploaded(
            "already_uploaded",
            f"同じファイルは{when}に受け付け済みです。何も追加していません。",
            f"The same file was received on {when}; nothing was added.",
            "file",
        )
        problem.source_file = earlier
        audit(
            Action.VIEW,
            purpose=PURPOSE,
            object_type="clinic_file",
            detail={"file": earlier.pk, "step": "same_file"},
            actor=actor,
        )
        raise ProblemList([problem])
    try:
        kind, encoding, raw_rows = read_file(data)
    except ProblemList as exc:
        audit(
            Action.CREATE,
            purpose=PURPOSE,
            object_type="clinic_file",
            outcome=Outcome.FAILED,
            detail={"step": "upload", "problems": [p.code for p in exc.problems], "bytes": len(data)},
            actor=actor,
        )
        raise
    today = timezone.localdate()
    parsed = read_all(raw_rows, Masters.load(), default_clinic=clinic, today=today)
    statuses = _match_and_check(parsed)
    with transaction.atomic():
        source = SourceFile.objects.create(
            kind=kind,
            file_name=(file_name or "upload.csv")[:255],
            sha256=digest,
            size_bytes=len(data),
            encoding=encoding,
            clinic=clinic,
            billing_month=billing_month,
            row_count=len(parsed),
            uploaded_by=actor,
        )
        _store_rows(source, parsed, statuses)
        counts = Counter(s[0] for s in statuses)
        audit(
            Action.CREATE,
            purpose=PURPOSE,
            object_type="clinic_file",
            subjects=sorted({p for s in statuses for p in ([s[2]] if s[2] else s[3])}),
            detail={"step": "upload", "file": source.pk, "rows": len(parsed), **counts},
            actor=actor,
        )
    return source


def _store_rows(source: SourceFile, parsed: list[Row], statuses: list) -> None:
    """One ImportDose per distinct dose part, then one ImportRow per row (COPY on PostgreSQL) holding
    its who part as JSON text and its dose part's id."""
    dose_ids: dict[int, int] = {}  # id(Dose) → ImportDose pk: the rows share Dose objects
    doses = []
    for row in parsed:
        if id(row.dose) not in dose_ids:
            dose_ids[id(row.dose)] = len(doses)
            doses.append(ImportDose(source_file=source, values=row.dose.values))
    created = ImportDose.objects.bulk_create(doses, batch_size=BATCH)
    for key, index in dose_ids.items():
        dose_ids[key] = created[index].pk
    json = bulk._json
    bulk.copy_rows(
        ImportRow,
        ["source_file_id", "row_number", "who", "dose_id", "status", "problems", "person_id", "candidates"],
        (
            (
                source.pk,
                row.line,
                row.who_json(),
                dose_ids[id(row.dose)],
                status,
                json(problems) if problems else "[]",
                person_id,
                json(candidates) if candidates else "[]",
            )
            for row, (status, problems, person_id, candidates) in zip(parsed, statuses, strict=True)
        ),
        plain=True,
    )


def _match_and_check(parsed: list[Row]) -> list[tuple[str, list, int | None, list]]:
    """(status, problems, person id, candidates) per row: matching, then the checks against the person."""
    matchable = [i for i, row in enumerate(parsed) if not row.problems]
    keys = []
    for i in matchable:
        row = parsed[i]
        who = row.who
        keys.append(
            Key(who["ticket_number"], row.kana_key, row.birth, who["sex"], who["name"], who["address"])
        )
    matches, persons = match_rows(keys)
    match_of: list[Match | None] = [None] * len(parsed)
    for i, match in zip(matchable, matches, strict=True):
        match_of[i] = match
    # Only the doses of the file are looked up in the register: (person, vaccine, 接種日).
    existing = given_doses(
        (m.person_id, parsed[i].dose.vaccine, parsed[i].dose.day)
        for i, m in zip(matchable, matches, strict=True)
        if m.person_id and not parsed[i].dose.screening_only
    )
    seen: set = set()
    out = []
    matched = ImportRowStatus.MATCHED
    for row, match in zip(parsed, match_of, strict=True):
        if row.problems:
            out.append((ImportRowStatus.ERROR, row.problems, None, []))
            continue
        person_id = match.person_id
        if person_id is None:
            out.append((ImportRowStatus.DOUBT, [match.reason], None, match.candidates))
            continue
        person = persons[person_id]
        dose = row.dose
        day = dose.day
        if day < person.birth_date or (person.status == PersonStatus.DECEASED and person.status_date):
            person_problems = _person_problems(person, day)
            if person_problems:
                out.append((ImportRowStatus.ERROR, person_problems, person_id, []))
                continue
        if dose.screening_only:
            out.append((matched, [], person_id, []))
            continue
        identity = (person_id, dose.vaccine, day)
        known = existing.get(identity)
        if identity in seen:
            out.append((ImportRowStatus.DUPLICATE, [_duplicate_in_file()], person_id, []))
        elif known is not None and _same_lot(known.lot_number, dose.values["lot_number"]):
            out.append((ImportRowStatus.DUPLICATE, [_already_recorded(known)], person_id, []))
        elif known is not None:
            out.append((ImportRowStatus.DOUBT, [_lot_conflict(known)], None, [person_id]))
        else:
            out.append((matched, [], person_id, []))
        seen.add(identity)
    return out


def _same_lot(recorded: str, incoming: str) -> bool:
    # A record without a lot (a paper entry) and the clinic's row with one are the same dose.
    return not recorded or not incoming or recorded.upper() == incoming.upper()


def _person_problems(person: Candidate, day: date) -> list[dict]:
    problems = []
    if day < person.birth_date:
        problems.append(
            _problem_dict(
                "before_birth",
                f"接種日 {day.isoformat()} が生年月日 {person.birth_date.isoformat()} より前です。",
                f"The date {day.isoformat()} is before the birth date {person.birth_date.isoformat()}.",
                "vaccinated_on",
            )
        )
    if person.status == PersonStatus.DECEASED and person.status_date and day > person.status_date:
        problems.append(
            _problem_dict(
                "after_death",
                f"接種日 {day.isoformat()} が死亡日 {person.status_date.isoformat()} より後です。",
                f"The date {day.isoformat()} is after the death on {person.status_date.isoformat()}.",
                "vaccinated_on",
            )
        )
    return problems


def _already_recorded(known: VaccinationRecord | Known) -> dict:
    # Kept with the row for the fee report: a dose first entered by hand is still this clinic's claim,
    # one already imported from a clinic file was claimed before.
    return {"record": known.pk, "record_source": known.source} | _problem_dict(
        "already_recorded",
        f"同じ接種がすでに登録されています（記録番号 {known.pk}、{known.get_source_display()}）。",
        f"The same dose is already recorded (record {known.pk}, {known.source}).",
        "vaccinated_on",
    )


def _duplicate_in_file() -> dict:
    return _problem_dict(
        "duplicate_in_file",
        "同じ人・ワクチン・接種日の行がこのファイルの前の行にあります。",
        "An earlier row of this file has the same person, vaccine and date.",
        "vaccinated_on",
    )


def _lot_conflict(known: VaccinationRecord | Known) -> dict:
    return _problem_dict(
        "lot_conflict",
        f"同じ日の同じワクチンの記録（{known.pk}）のLotが異なります（{known.lot_number}）。",
        f"A record of the same vaccine on the same day ({known.pk}) has lot {known.lot_number}.",
        "lot_number",
    )


@dataclass
class Preview:
    source: SourceFile
    counts: dict[str, int]
    errors: list[ImportRow]
    doubts: list[ImportRow]
    matched: list[ImportRow]
    persons: dict[int, Person]


def preview(file_id: int, *, actor, limit: int = 500) -> Preview:
    source = SourceFile.objects.select_related("clinic").get(pk=file_id, kind__in=IMPORT_KINDS)
    rows = ImportRow.objects.filter(source_file=source)
    counts: Counter = Counter()
    for status, n in rows.order_by().values_list("status").annotate(n=Count("id")):
        counts[ImportRowStatus.shown(status, source.status)] += n
    errors = list(rows.filter(status=ImportRowStatus.ERROR)[:limit])
    doubts = list(rows.filter(status=ImportRowStatus.DOUBT)[:limit])
    matched = list(
        rows.select_related("person").filter(
            status__in=[ImportRowStatus.MATCHED, ImportRowStatus.IMPORTED, ImportRowStatus.DUPLICATE]
        )[:limit]
    )
    ids = {r.person_id for r in [*errors, *matched] if r.person_id} | {
        c for r in doubts for c in r.candidates
    }
    persons = Person.objects.in_bulk(sorted(ids))
    audit(
        Action.VIEW,
        purpose=PURPOSE,
        object_type="clinic_file",
        subjects=sorted(ids),
        detail={"step": "preview", "file": source.pk},
        actor=actor,
    )
    return Preview(source, counts, errors, doubts, matched, persons)


# Commit ---------------------------------------------------------------------------------------------


def _record(source: SourceFile, row_number: int, person_id: int, v: dict, clinics: dict, actor) -> dict:
    """The record a row becomes, as field attnames (for ``bulk.insert`` or ``VaccinationRecord(**)``)."""
    fee = v.get("fee_yen")
    if fee is None and not v["screening_only"]:
        fee = v.get("fee_table_yen")
    clinic = clinics.get(v["clinic_id"])
    return dict(
        person_id=person_id,
        vaccine_id=v["vaccine"],
        dose_number=v["dose_number"],
        vaccinated_on=date.fromisoformat(v["vaccinated_on"]),
        product_id=v.get("product_id"),
        lot_id=v.get("lot_id"),
        lot_number=v["lot_number"],
        product_name=v.get("product_name", ""),
        maker_name=v.get("maker_name", ""),
        volume_ml=Decimal(v["volume_ml"]) if v.get("volume_ml") and not v["screening_only"] else None,
        clinic_id=v["clinic_id"],
        clinic_name=clinic.name if clinic else "",
        vaccinating_doctor_name=v["vaccinating_doctor_name"],
        screening_doctor_name=v["screening_doctor_name"],
        legal_category=v["legal_category"] or "routine",
        payment=v["payment"] or "public",
        billing_month=source.billing_month,
        fee_yen=fee,
        screening_only=v["screening_only"],
        not_vaccinated_reason=v["not_vaccinated_reason"],
        remarks=v["remarks"],
        ticket_number=v["ticket_number"],
        source=RecordSource.CLINIC_FILE,
        source_file_id=source.pk,
        source_row=row_number,
        registered_by_id=actor.pk,
    )


# The dose parts' values the commit reads, as (key, PostgreSQL type): each is read once per dose part
# of the file (a few thousand), not once per row.
DOSE_KEYS = (
    ("vaccine", "text"),
    ("dose_number", "integer"),
    ("vaccinated_on", "date"),
    ("product_id", "bigint"),
    ("lot_id", "bigint"),
    ("lot_number", "text"),
    ("product_name", "text"),
    ("maker_name", "text"),
    ("volume_ml", "text"),
    ("clinic_id", "bigint"),
    ("vaccinating_doctor_name", "text"),
    ("screening_doctor_name", "text"),
    ("legal_category", "text"),
    ("payment", "text"),
    ("fee_yen", "integer"),
    ("fee_table_yen", "integer"),
    ("screening_only", "boolean"),
    ("not_vaccinated_reason", "text"),
    ("remarks", "text"),
)


def _file_doses() -> str:
    """SQL for a common table ``d`` of the file's dose parts (parameter: the file's id), one typed
    column per key: ``WITH {this} ...``."""
    values = connection.ops.quote_name("values")
    columns = ", ".join(f"{_json_field(values, key, kind)} AS {key}" for key, kind in DOSE_KEYS)
    table = connection.ops.quote_name(ImportDose._meta.db_table)
    return f"d AS MATERIALIZED (SELECT id, {columns} FROM {table} WHERE source_file_id = %s)"  # noqa: S608


@contextmanager
def without_nested_loops(cursor):
    """PostgreSQL plans the next statements without nested-loop joins (the rest of the transaction is
    as before). A file's rows were just written: the table's statistics do not know them yet, the
    planner takes a file of 100,000 rows for a handful and loops over the dose parts for each row
    (seconds instead of a hash join's tens of milliseconds). Every join of these statements is of the
    file's own rows and dose parts, where a hash join is right whatever the file's size."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute("SELECT current_setting('enable_nestloop'), set_config('enable_nestloop', 'off', true)")
    (before, _) = cursor.fetchone()
    try:
        yield
    finally:
        cursor.execute("SELECT set_config('enable_nestloop', %s, true)", [before])


def _mark_now_duplicate(source: SourceFile) -> None:
    """Matched rows whose dose (person, vaccine, 接種日) is now an active, given record: duplicates."""
    table = connection.ops.quote_name(ImportRow._meta.db_table)
    records = connection.ops.quote_name(VaccinationRecord._meta.db_table)
    # The records are looked up by the dose identity's index once per row (OFFSET 0 keeps the EXISTS
    # a subquery run per row rather than a join, which would read the whole register without loops).
    per_row = " OFFSET 0" if connection.vendor == "postgresql" else ""
    sql = (
        f"WITH {_file_doses()} "  # noqa: S608 (names from the models)
        f"UPDATE {table} SET status = %s WHERE source_file_id = %s AND id IN (SELECT i.id "
        f"FROM {table} i {_join_doses()} WHERE i.source_file_id = %s AND i.status = %s "
        f"AND NOT d.screening_only AND EXISTS (SELECT 1 FROM {records} r "
        "WHERE r.person_id = i.person_id AND r.vaccine_id = d.vaccine "
        f"AND r.vaccinated_on = d.vaccinated_on AND r.status = %s AND NOT r.screening_only{per_row}))"
    )
    with connection.cursor() as cursor, without_nested_loops(cursor):
        cursor.execute(
            sql,
            [
                source.pk,
                ImportRowStatus.DUPLICATE,
                source.pk,
                source.pk,
                ImportRowStatus.MATCHED,
                RecordStatus.ACTIVE,
            ],
        )


def _join_doses() -> str:
    """SQL joining the file's rows ``i`` to their dose parts ``d`` (``_file_doses``). SQLite is told to
    keep the rows outside (CROSS JOIN keeps the order there): otherwise it reads every row of the file
    again for each dose part, where it now finds each row's dose part by an automatic index."""
    join = "JOIN" if connection.vendor == "postgresql" else "CROSS JOIN"
    return f"{join} d ON d.id = i.dose_id"


def _insert_records(source: SourceFile, actor) -> list[int]:
    """The records of the file's matched rows, written by the database from the rows and their dose
    parts in one statement (``_record`` is the same mapping for one row). The persons of the records
    written."""
    table = connection.ops.quote_name(ImportRow._meta.db_table)
    clinics = connection.ops.quote_name(Clinic._meta.db_table)
    postgresql = connection.vendor == "postgresql"
    expressions = {
        "person_id": "i.person_id",
        "vaccine_id": "d.vaccine",
        "dose_number": "d.dose_number",
        "vaccinated_on": "d.vaccinated_on",
        "product_id": "d.product_id",
        "lot_id": "d.lot_id",
        "lot_number": "d.lot_number",
        "product_name": "COALESCE(d.product_name, '')",
        "maker_name": "COALESCE(d.maker_name, '')",
        "volume_ml": "CASE WHEN NOT d.screening_only AND d.volume_ml <> '' "
        f"THEN {'CAST(d.volume_ml AS numeric)' if postgresql else 'd.volume_ml'} END",
        "clinic_id": "d.clinic_id",
        "clinic_name": "COALESCE(c.name, '')",
        "vaccinating_doctor_name": "d.vaccinating_doctor_name",
        "screening_doctor_name": "d.screening_doctor_name",
        "legal_category": "COALESCE(NULLIF(d.legal_category, ''), 'routine')",
        "payment": "COALESCE(NULLIF(d.payment, ''), 'public')",
        "fee_yen": "COALESCE(d.fee_yen, CASE WHEN NOT d.screening_only THEN d.fee_table_yen END)",
        "screening_only": "d.screening_only",
        "not_vaccinated_reason": "d.not_vaccinated_reason",
        "remarks": "d.remarks",
        "ticket_number": _json_field(f"i.{connection.ops.quote_name('who')}", "ticket_number"),
        "source_row": "i.row_number",
    }
    given = {
        "billing_month": source.billing_month,
        "source": RecordSource.CLINIC_FILE,
        "source_file_id": source.pk,
        "registered_by_id": actor.pk,
    }
    fields = {f.attname: f for f in VaccinationRecord._meta.concrete_fields if not f.primary_key}
    columns, selects, params = [], [], []
    for attname, default in bulk.defaults(VaccinationRecord, timezone.now()).items():
        columns.append(connection.ops.quote_name(fields[attname].column))
        if attname in expressions:
            selects.append(expressions[attname])
            continue
        # Table and column names come from the models, values are parameters (cast on PostgreSQL,
        # where a parameter in a select list has no type of its own).
        kind = fields[attname].cast_db_type(connection) if postgresql else None
        selects.append(f"CAST(%s AS {kind})" if kind else "%s")
        params.append(bulk.prepare(given.get(attname, default)))
    target = connection.ops.quote_name(VaccinationRecord._meta.db_table)
    sql = (
        f"WITH {_file_doses()} "  # noqa: S608 (names from the models, values are parameters)
        f"INSERT INTO {target} ({', '.join(columns)}) SELECT {', '.join(selects)} "
        f"FROM {table} i {_join_doses()} LEFT JOIN {clinics} c ON c.id = d.clinic_id "
        "WHERE i.source_file_id = %s AND i.status = %s RETURNING person_id"
    )
    with connection.cursor() as cursor, without_nested_loops(cursor):
        cursor.execute(sql, [source.pk, *params, source.pk, ImportRowStatus.MATCHED])
        return [person_id for (person_id,) in cursor.fetchall()]


def _json_field(column: str, key: str, kind: str = "text") -> str:
    """SQL for ``column[key]`` of a JSON column: PostgreSQL casts the text to ``kind``; SQLite gives
    JSON numbers and booleans (1/0) as such, dates as ISO text."""
    if connection.vendor == "postgresql":
        text = f"({column} ->> '{key}')"
        return text if kind == "text" else f"{text}::{kind}"
    return f"json_extract({column}, '$.{key}')"


@dataclass
class CommitResult:
    imported: int
    duplicates: int
    in_doubt: int


def _locked_file(file_id: int) -> SourceFile:
    """The uploaded file, locked for the rest of the transaction (commit and withdraw exclude each other)."""
    source = SourceFile.objects.select_for_update().filter(pk=file_id, kind__in=IMPORT_KINDS).first()
    if source is None:
        raise ProblemList([Problem("unknown_file", "ファイルが見つかりません。", "No such file.", "file")])
    return source


def commit(file_id: int, *, actor) -> CommitResult:
    """Import the matched rows of a previewed file, all or nothing. Raises ProblemList."""
    with transaction.atomic():
        source = _locked_file(file_id)
        if source.status == SourceFileStatus.REJECTED:
            raise ProblemList(
                [
                    Problem(
                        "withdrawn",
                        "このファイルは取り消されています。何も追加していません。",
                        "This file was withdrawn; nothing was added.",
                        "file",
                    )
                ]
            )
        if source.status != SourceFileStatus.PREVIEW:
            raise ProblemList(
                [
                    Problem(
                        "already_committed",
                        "このファイルは取込済みです。何も追加していません。",
                        "This file was already imported; nothing was added.",
                        "file",
                    )
                ]
            )
        rows = ImportRow.objects.filter(source_file=source)
        errors = rows.filter(status=ImportRowStatus.ERROR).count()
        if errors:
            audit(
                Action.CREATE,
                purpose=PURPOSE,
                object_type="clinic_file",
                outcome=Outcome.FAILED,
                detail={"step": "commit", "file": source.pk, "error_rows": errors},
                actor=actor,
            )
            raise ProblemList(
                [
                    Problem(
                        "file_has_errors",
                        f"エラーの行が{errors}行あるため取り込めません。訂正したファイルの再送を依頼してください。",
                        f"{errors} rows have errors: ask the clinic for a corrected file.",
                        "file",
                    )
                ]
            )
        # Doses entered since the preview are recognised again, not duplicated.
        _mark_now_duplicate(source)
        try:
            with transaction.atomic():
                imported_persons = _insert_records(source, actor)
        except IntegrityError:
            raise ProblemList(
                [
                    Problem(
                        "concurrent_entry",
                        "取込中に同じ接種が登録されました。もう一度取り込んでください。",
                        "The same doses were entered meanwhile: import again.",
                        "file",
                    )
                ]
            ) from None
        source.status = SourceFileStatus.COMMITTED
        source.committed_at = timezone.now()
        source.save(update_fields=["status", "committed_at"])
        result = CommitResult(
            len(imported_persons),
            rows.filter(status=ImportRowStatus.DUPLICATE).count(),
            rows.filter(status=ImportRowStatus.DOUBT).count(),
        )
        audit(
            Action.CREATE,
            purpose=PURPOSE,
            object_type="vaccination_record",
            subjects=sorted(set(imported_persons)),
            detail={
                "step": "commit",
                "file": source.pk,
                "imported": result.imported,
                "duplicates": result.duplicates,
            },
            actor=actor,
        )
    return result


# Review queue ---------------------------------------------------------------------------------------


def review_queue(*, actor, limit: int = 200) -> tuple[list[ImportRow], dict[int, Person]]:
    rows = list(
        ImportRow.objects.filter(status=ImportRowStatus.DOUBT)
        .exclude(source_file__status=SourceFileStatus.REJECTED)
        .select_related("source_file")[:limit]
    )
    ids = sorted({c for r in rows for c in r.candidates})
    persons = Person.objects.in_bulk(ids)
    audit(
        Action.VIEW,
        purpose=PURPOSE_REVIEW,
        object_type="import_row",
        subjects=ids,
        result_count=len(rows),
        actor=actor,
    )
    return rows, persons


def _doubt_row(row_id: int) -> ImportRow:
    row = ImportRow.objects.select_for_update(of=("self",)).filter(pk=row_id).first()
    if row is None or row.status != ImportRowStatus.DOUBT:
        raise ProblemList(
            [
                Problem(
                    "not_in_doubt",
                    "この行は確認待ちではありません。",
                    "This row is not waiting for review.",
                    "row",
                )
            ]
        )
    return row


def _entry_values(v: dict) -> dict:
    """The row as ``records.check_dose`` takes it (masters as objects)."""
    return {
        "vaccine": Vaccine.objects.get(pk=v["vaccine"]),
        "vaccinated_on": date.fromisoformat(v["vaccinated_on"]),
        "dose_number": v["dose_number"],
        "lot_number": v["lot_number"],
        "volume_ml": Decimal(v["volume_ml"]) if v.get("volume_ml") else None,
        "screening_only": v["screening_only"],
        "fee_yen": v.get("fee_yen"),
        "clinic": Clinic.objects.filter(pk=v["clinic_id"]).first(),
    }


def resolve(row_id: int, person_id: int, *, actor) -> ImportRow:
    """A clerk says which person the row is. The dose passes ``records.check_dose`` with that person;
    in a committed file it is imported at once, otherwise at the commit."""
    with transaction.atomic():
        row = _doubt_row(row_id)
        person = Person.objects.filter(pk=person_id).first()
        if person is None:
            raise ProblemList(
                [Problem("unknown_person", "該当する人が見つかりません。", "No such person.", "person")]
            )
        checked = records.check_dose(person, _entry_values(row.values), today=timezone.localdate())
        row.person = person
        row.decided_by, row.decided_at = actor, timezone.now()
        if row.source_file.status == SourceFileStatus.COMMITTED:
            values = {
                **row.values,
                "fee_yen": checked.get("fee_yen"),
                "volume_ml": str(checked["volume_ml"]) if checked.get("volume_ml") else None,
            }
            record = VaccinationRecord(
                **_record(
                    row.source_file,
                    row.row_number,
                    person.pk,
                    values,
                    Clinic.objects.in_bulk([row.values["clinic_id"]]),
                    actor,
                )
            )
            record.save()
            row.record, row.status = record, ImportRowStatus.IMPORTED
        else:
            row.status = ImportRowStatus.MATCHED
        row.save()
        audit(
            Action.CHANGE,
            purpose=PURPOSE_REVIEW,
            object_type="import_row",
            subjects=[person.pk],
            detail={
                "step": "match",
                "file": row.source_file_id,
                "row": row.row_number,
                "record": row.record_id,
            },
            actor=actor,
        )
    return row


def reject(row_id: int, *, reason: str, actor) -> ImportRow:
    reason = (reason or "").strip()[:500]
    if not reason:
        raise ProblemList([Problem("required", "理由を入力してください。", "Enter the reason.", "reason")])
    with transaction.atomic():
        row = _doubt_row(row_id)
        row.status = ImportRowStatus.REJECTED
        row.decided_by, row.decided_at = actor, timezone.now()
        row.problems = [
            *row.problems,
            _problem_dict("rejected", f"取り込まない: {reason}", f"Not imported: {reason}", "row"),
        ]
        row.save()
        audit(
            Action.CHANGE,
            purpose=PURPOSE_REVIEW,
            object_type="import_row",
            subjects=row.candidates,
            detail={"step": "reject", "file": row.source_file_id, "row": row.row_number},
            actor=actor,
        )
    return row


# Withdrawing a file ---------------------------------------------------------------------------------


def withdraw(file_id: int, *, reason: str, actor) -> SourceFile:
    """取消: a file not imported (typically refused for its error rows, the clinic sending a corrected
    one) leaves the review queue and the fee report. Its rows stay, for the record of what was sent;
    the reason is kept in the audit event. An imported file cannot be withdrawn: its records are
    corrected or deleted one by one (four-eyes)."""
    reason = (reason or "").strip()[:500]
    if not reason:
        raise ProblemList([Problem("required", "理由を入力してください。", "Enter the reason.", "reason")])
    with transaction.atomic():
        source = _locked_file(file_id)
        if source.status != SourceFileStatus.PREVIEW:
            raise ProblemList(
                [
                    Problem(
                        "not_withdrawable",
                        "取込済みまたは取消済みのファイルは取り消せません。",
                        "An imported or withdrawn file cannot be withdrawn.",
                        "file",
                    )
                ]
            )
        source.status = SourceFileStatus.REJECTED
        source.save(update_fields=["status"])
        rows = ImportRow.objects.filter(source_file=source)
        subjects = set(rows.exclude(person_id=None).values_list("person_id", flat=True))
        for candidates in rows.filter(status=ImportRowStatus.DOUBT).values_list("candidates", flat=True):
            subjects.update(candidates)
        audit(
            Action.CHANGE,
            purpose=PURPOSE,
            object_type="clinic_file",
            subjects=sorted(subjects),
            detail={"step": "withdraw", "file": source.pk, "reason": reason},
            actor=actor,
        )
    return source
