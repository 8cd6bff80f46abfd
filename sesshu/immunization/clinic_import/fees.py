"""委託料の照合: what each clinic claimed against what the fee table and the register say.

Two views of the same verdicts: a CSV per uploaded file (``fee_report_csv``), and the report the finance
section works from, per clinic per 請求年月 across every file of that month (``month_report``, its CSV
``clinic_month_csv``, and its PDF in ``fees_pdf``). A 医師会 file holds several clinics: every row
carries its clinic (``values["clinic_id"]``; the file's clinic when the row names none it can read).

The month's files are those uploaded with that 請求年月, previewed or committed (a file cancelled
(取消) is not a claim); a file uploaded without a 請求年月 counts each row in the month of its 接種日.

Verdicts, the first that applies (the report lists them in the order of ``VERDICTS``):

- 無効: an error row (the file cannot be imported until the clinic corrects it), or a dose whose record
  was deleted after the import.
- 重複請求: claimed twice: twice in a file, in two files of the month, or already imported from an
  earlier file. A dose first entered by hand from the 予診票 is still this clinic's claim, payable once.
- 照合待ち: the row is waiting for a clerk to say which person it is (the review queue).
- 取込まない: a clerk decided not to import the row.
- 予診のみ: a screening without a dose: shown, not paid.
- 契約期間外: the clinic was not under contract on the day.
- 間違い接種: the schedule engine does not count the dose (too young, too old, interval too short…,
  ``evaluation``). Payable 0 pending the city's decision: whether a 間違い接種 is paid is decided case
  by case, so the report shows it with the engine's reason for the finance section to act on.
- 定期接種外: the engine does not count the dose for another reason (the series was already complete,
  a second dose in the season, the vaccine was not routine that day): 0 pending the city's decision.
- 単価なし: the fee table has no line for the vaccine and dose on that day.
- 請求額相違: the claim differs from the table: the table's fee is payable.
- 支払対象: payable at the table's fee.
- 未取込: a row of the last six kinds whose file is previewed, not imported (a file with error rows
  cannot be, until the clinic sends it corrected): nothing is paid for a dose that is not in the
  register. The reason says what the verdict will be once imported.

The claim of a row that leaves 委託料 empty is the table's fee (the file's layout says so).
"""

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q

from sesshu.audit.models import Action
from sesshu.audit.services import record as audit
from sesshu.core.wareki import format_wareki

from ..models import (
    Clinic,
    ImportRow,
    ImportRowStatus,
    RecordStatus,
    SourceFile,
    SourceFileStatus,
    VaccinationRecord,
    Vaccine,
)
from ..notices.print_csv import TextEncoder
from .evaluation import RowEvaluation, evaluate_rows
from .services import IMPORT_KINDS, PURPOSE_FEES

# (verdict, what the finance section does with it)
VERDICTS = (
    ("支払対象", "支払う（単価表の額）"),
    ("請求額相違", "単価表の額を支払う。差額は医療機関に連絡する"),
    ("間違い接種", "支払の可否を市が個別に判断する（保留）"),
    ("定期接種外", "支払の可否を市が個別に判断する（保留）"),
    ("単価なし", "単価表を確認し、登録後に再照合する"),
    ("契約期間外", "支払わない。契約を確認する"),
    ("重複請求", "支払わない（既に請求済み）"),
    ("照合待ち", "照合確認後に再照合する"),
    ("未取込", "ファイルの取込後に再照合する"),
    ("取込まない", "支払わない"),
    ("無効", "支払わない。訂正ファイルの再送を依頼する"),
    ("予診のみ", "支払わない（予診のみ）"),
)
VERDICT_NAMES = tuple(name for name, _ in VERDICTS)
# Verdicts of a dose claimed as given (the ones a second claim of the same dose makes 重複請求).
CLAIMED_DOSES = {"支払対象", "請求額相違", "間違い接種", "定期接種外", "単価なし", "契約期間外"}
# Verdicts the city still has to decide on or come back to (shown highlighted).
PENDING = {"間違い接種", "定期接種外", "照合待ち", "単価なし", "未取込"}
MONTH_FILE_STATUSES = (SourceFileStatus.PREVIEW, SourceFileStatus.COMMITTED)

HEADER = [
    "行",
    "医療機関コード",
    "医療機関名",
    "ワクチン",
    "接種回",
    "接種日",
    "請求額",
    "単価表",
    "支払額",
    "判定",
    "理由",
]


def verdict(
    row: ImportRow, clinic: Clinic | None, evaluation: RowEvaluation | None = None
) -> tuple[str, int, str]:
    """(verdict, amount payable, reason) for one row, on its own (see ``lines`` for claims twice)."""
    v = row.values
    if row.status == ImportRowStatus.ERROR:
        return "無効", 0, "; ".join(p["message_ja"] for p in row.problems)
    if row.status == ImportRowStatus.DUPLICATE:
        first = row.problems[0] if row.problems else {}
        if first.get("code") != "already_recorded" or first.get("record_source") == "clinic_file":
            # No problem kept: the dose was recorded between the preview and the commit.
            return "重複請求", 0, first.get("message_ja", "取込時に同じ接種がすでに登録されていました。")
    if row.status == ImportRowStatus.DOUBT:
        return "照合待ち", 0, "; ".join(p["message_ja"] for p in row.problems if p)
    if row.status == ImportRowStatus.REJECTED:
        return "取込まない", 0, row.problems[-1]["message_ja"] if row.problems else ""
    if v.get("screening_only"):
        return "予診のみ", 0, v.get("not_vaccinated_reason", "")
    if not v.get("under_contract", True):
        return "契約期間外", 0, f"{clinic.name if clinic else ''} の契約期間外の接種です。"
    if evaluation is not None and not evaluation.valid:
        return evaluation.title_ja, 0, evaluation.reason_ja
    table = v.get("fee_table_yen")
    if table is None:
        return "単価なし", 0, "単価表にこのワクチン・接種回の委託料がありません。"
    claimed = v.get("fee_yen")
    if claimed is not None and claimed != table:
        return "請求額相違", table, f"請求額 {claimed}円、単価表 {table}円。"
    return "支払対象", table, ""


@dataclass
class FeeLine:
    """One row of a clinic file, judged."""

    row: ImportRow
    clinic: Clinic | None
    verdict: str
    payable: int
    reason: str
    evaluation: RowEvaluation | None = None

    @property
    def source(self) -> SourceFile:
        return self.row.source_file

    @property
    def values(self) -> dict:
        return self.row.values

    @property
    def claimed(self) -> int:
        """The fee claimed: the file's 委託料, or the table's when the row leaves it empty."""
        v = self.row.values
        if v.get("fee_yen") is not None:
            return v["fee_yen"]
        if v.get("screening_only"):
            return 0
        return v.get("fee_table_yen") or 0

    @property
    def vaccinated_on(self) -> date | None:
        day = self.row.values.get("vaccinated_on")
        return date.fromisoformat(day) if day else None


def _clinic_id(row: ImportRow) -> int | None:
    return row.values.get("clinic_id") or row.source_file.clinic_id


def lines(rows: Iterable[ImportRow], *, clinic_id: int | None = None) -> list[FeeLine]:
    """Every row judged, in the order given (rows with ``source_file`` loaded). A dose claimed again
    in a later row of an imported file (another file, another clinic) is 重複請求 pointing at the first
    claim (the import recognises most of these itself; this catches files imported side by side).

    With ``clinic_id``, only that clinic's rows are judged by the schedule engine (the others are read
    for the claims twice only, which the engine's verdict does not change)."""
    rows = list(rows)
    clinics = Clinic.objects.in_bulk({c for r in rows if (c := _clinic_id(r))})
    evaluations = evaluate_rows(r for r in rows if clinic_id is None or _clinic_id(r) == clinic_id)
    deleted = set(
        VaccinationRecord.objects.filter(
            pk__in=sorted({r.record_id for r in rows if r.record_id}), status=RecordStatus.DELETED
        ).values_list("pk", flat=True)
    )
    first_claim: dict[tuple, ImportRow] = {}
    out = []
    for row in rows:
        clinic = clinics.get(_clinic_id(row))
        if row.record_id in deleted:
            kind, payable, reason = "無効", 0, f"取込後に記録（記録番号 {row.record_id}）が削除されました。"
        else:
            kind, payable, reason = verdict(row, clinic, evaluations.get(row.pk))
        if kind in CLAIMED_DOSES and row.source_file.status != SourceFileStatus.COMMITTED:
            pay = f" {payable:,}円" if payable else ""
            kind, payable, reason = (
                "未取込",
                0,
                f"ファイルが取り込まれていません（取込後の判定: {kind}{pay}）。{reason}",
            )
        if kind in CLAIMED_DOSES:
            v = row.values
            identity = (row.person_id, v.get("vaccine"), v.get("vaccinated_on"))
            first = first_claim.setdefault(identity, row)
            if first is not row:
                kind, payable = "重複請求", 0
                reason = (
                    f"同じ接種を {first.source_file.file_name}（ファイル番号 {first.source_file_id}）の"
                    f"{first.row_number}行目で請求しています。"
                )
        out.append(FeeLine(row, clinic, kind, payable, reason, evaluations.get(row.pk)))
    return out


# The per-file CSV -----------------------------------------------------------------------------------


def fee_report_csv(source: SourceFile, *, actor) -> str:
    rows = list(
        ImportRow.objects.filter(source_file=source).select_related("source_file").order_by("row_number")
    )
    judged = lines(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    names: dict[str, str] = {}
    for line in judged:
        v = line.values
        code = line.clinic.code if line.clinic else ""
        names[code] = line.clinic.name if line.clinic else ""
        totals[code][0] += line.claimed
        totals[code][1] += line.payable
        totals[code][2] += 1
        writer.writerow(
            [
                line.row.row_number,
                code,
                names[code],
                v.get("vaccine", ""),
                v.get("dose_number") or "",
                v.get("vaccinated_on") or "",
                "" if v.get("fee_yen") is None else v["fee_yen"],
                "" if v.get("fee_table_yen") is None else v["fee_table_yen"],
                line.payable,
                line.verdict,
                line.reason,
            ]
        )
    for code, (claimed, payable, count) in sorted(totals.items()):
        writer.writerow(["合計", code, names[code], "", count, "", claimed, "", payable, "", ""])
    audit(
        Action.EXPORT,
        purpose=PURPOSE_FEES,
        object_type="clinic_file",
        subjects=sorted({r.person_id for r in rows if r.person_id}),
        detail={"file": source.pk, "rows": len(rows), "format": "csv"},
        actor=actor,
    )
    return out.getvalue()


# Per clinic per month ---------------------------------------------------------------------------------


@dataclass
class VerdictTotal:
    verdict: str
    action: str  # what the finance section does
    count: int = 0
    claimed: int = 0
    payable: int = 0


@dataclass
class ClinicReport:
    """One clinic's claims of one 請求年月."""

    month: date
    clinic: Clinic | None  # None: rows naming no clinic the register knows (error rows)
    lines: list[FeeLine] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.clinic.code if self.clinic else ""

    @property
    def name(self) -> str:
        return self.clinic.name if self.clinic else "医療機関不明"

    @property
    def claimed(self) -> int:
        return sum(line.claimed for line in self.lines)

    @property
    def payable(self) -> int:
        return sum(line.payable for line in self.lines)

    @property
    def difference(self) -> int:
        return self.claimed - self.payable

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(line.verdict for line in self.lines))

    def totals(self) -> list[VerdictTotal]:
        """One total a verdict that occurs, in the order of ``VERDICTS``."""
        by = {name: VerdictTotal(name, action) for name, action in VERDICTS}
        for line in self.lines:
            total = by[line.verdict]
            total.count += 1
            total.claimed += line.claimed
            total.payable += line.payable
        return [t for t in by.values() if t.count]

    @property
    def files(self) -> list[SourceFile]:
        return sorted({line.source.pk: line.source for line in self.lines}.values(), key=lambda f: f.pk)

    @property
    def person_ids(self) -> list[int]:
        return sorted({line.row.person_id for line in self.lines if line.row.person_id})

    @property
    def pending(self) -> int:
        """Lines the city still has to decide on or come back to (``PENDING``)."""
        return sum(1 for line in self.lines if line.verdict in PENDING)


@dataclass
class MonthReport:
    month: date
    clinics: list[ClinicReport]

    @property
    def claimed(self) -> int:
        return sum(c.claimed for c in self.clinics)

    @property
    def payable(self) -> int:
        return sum(c.payable for c in self.clinics)

    @property
    def person_ids(self) -> list[int]:
        return sorted({p for c in self.clinics for p in c.person_ids})

    @property
    def verdicts(self) -> list[str]:
        """The verdicts that occur this month, in the order of ``VERDICTS`` (the screen's columns)."""
        seen = {line.verdict for c in self.clinics for line in c.lines}
        return [name for name in VERDICT_NAMES if name in seen]

    def clinic(self, code: str) -> ClinicReport | None:
        return next((c for c in self.clinics if c.clinic and c.clinic.code == code), None)


def month_rows(month: date):
    """The rows claimed for the 請求年月 ``month`` (its first day), file by file, line by line."""
    with_month = Q(source_file__billing_month=month)
    without = Q(
        source_file__billing_month__isnull=True, dose__values__vaccinated_on__startswith=f"{month:%Y-%m}"
    )
    return (
        ImportRow.objects.filter(
            with_month | without,
            source_file__kind__in=IMPORT_KINDS,
            source_file__status__in=MONTH_FILE_STATUSES,
        )
        .select_related("source_file")
        .order_by("source_file_id", "row_number")
    )


def month_report(month: date) -> MonthReport:
    """Every clinic's claims of the month, judged together (a dose claimed by two clinics is 重複請求
    for the later claim). Not audited here: the screen and the exports write their own events."""
    by_clinic: dict[int | None, list[FeeLine]] = defaultdict(list)
    for line in lines(month_rows(month)):
        by_clinic[line.clinic.pk if line.clinic else None].append(line)
    reports = [ClinicReport(month, items[0].clinic, items) for items in by_clinic.values()]
    reports.sort(key=lambda r: (r.clinic is None, r.code))
    return MonthReport(month, reports)


def view_month(month: date, *, actor) -> MonthReport:
    """The month's screen: totals per clinic. Audited as a view of every person in it."""
    report = month_report(month)
    audit(
        Action.VIEW,
        purpose=PURPOSE_FEES,
        object_type="fee_report",
        subjects=report.person_ids,
        result_count=len(report.clinics),
        criteria={"month": f"{month:%Y-%m}"},
        actor=actor,
    )
    return report


def clinic_report(month: date, clinic: Clinic) -> ClinicReport:
    """One clinic's claims of the month (the other clinics' rows are read for claims twice)."""
    mine = [line for line in lines(month_rows(month), clinic_id=clinic.pk) if line.clinic == clinic]
    return ClinicReport(month, clinic, mine)


def _audit_export(report: ClinicReport, fmt: str, actor, **extra) -> None:
    audit(
        Action.EXPORT,
        purpose=PURPOSE_FEES,
        object_type="fee_report",
        subjects=report.person_ids,
        result_count=len(report.lines),
        criteria={"month": f"{report.month:%Y-%m}", "clinic": report.code},
        detail={"format": fmt, "claimed": report.claimed, "payable": report.payable, **extra},
        actor=actor,
    )


# The month's CSV: UTF-8 with a BOM (what Excel opens as Unicode) by default; CP932 on request for the
# finance systems that read Shift_JIS only, with characters CP932 cannot hold written as 〓.
CSV_ENCODINGS = ("utf-8", "cp932")
MONTH_HEADER = [
    "請求年月",
    "医療機関コード",
    "医療機関名",
    "ファイル番号",
    "ファイル名",
    "行",
    "ワクチンコード",
    "ワクチン",
    "接種回",
    "接種日",
    "接種日（和暦）",
    "請求額",
    "単価表",
    "支払額",
    "判定",
    "理由",
    "取込状態",
]


def _month_csv_rows(report: ClinicReport) -> list[list]:
    vaccines = {v.pk: v.name_ja for v in Vaccine.objects.all()}
    month = f"{report.month:%Y-%m}"
    out: list[list] = [MONTH_HEADER]
    for line in report.lines:
        v = line.values
        day = line.vaccinated_on
        out.append(
            [
                month,
                report.code,
                report.name,
                line.source.pk,
                line.source.file_name,
                line.row.row_number,
                v.get("vaccine", ""),
                vaccines.get(v.get("vaccine"), ""),
                v.get("dose_number") or "",
                day.isoformat() if day else "",
                format_wareki(day),
                line.claimed,
                "" if v.get("fee_table_yen") is None else v["fee_table_yen"],
                line.payable,
                line.verdict,
                line.reason,
                line.row.get_status_display(),
            ]
        )
    for total in report.totals():
        out.append(_total_row("小計", report, total.verdict, total.count, total.claimed, total.payable))
    out.append(_total_row("合計", report, "", len(report.lines), report.claimed, report.payable))
    return out


def clinic_month_csv(month: date, clinic: Clinic, *, actor, encoding: str = "utf-8") -> bytes:
    """The clinic's claims of the month as CSV (one line a row, then a 小計 line a verdict and the 合計
    line: filter the first column to drop them). Audited as an export of every person in it."""
    if encoding not in CSV_ENCODINGS:
        encoding = "utf-8"
    report = clinic_report(month, clinic)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(_month_csv_rows(report))
    text = out.getvalue()
    if encoding == "cp932":
        data = TextEncoder("cp932")(text)
    else:
        data = ("\ufeff" + text).encode("utf-8")
    _audit_export(report, "csv", actor, encoding=encoding)
    return data


def _total_row(label: str, report: ClinicReport, verdict: str, count: int, claimed: int, payable: int):
    row: list = [""] * len(MONTH_HEADER)
    row[0], row[1], row[2], row[5] = label, report.code, report.name, count
    row[11], row[13], row[14] = claimed, payable, verdict
    return row


def clinic_month_pdf(month: date, clinic: Clinic, *, actor) -> bytes:
    """The clinic's claims of the month as PDF (``fees_pdf``). Audited as an export."""
    from .fees_pdf import render_clinic_report

    report = clinic_report(month, clinic)
    data = render_clinic_report(report)
    _audit_export(report, "pdf", actor)
    return data
