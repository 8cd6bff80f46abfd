"""委託料の照合: for each row of a clinic file, what the clinic claimed against what the fee table and
the register say, as a CSV the finance section can act on (per clinic, for the file's 請求年月).

Verdicts: 支払対象 (payable at the table's fee), 請求額相違 (the claim differs from the table; the
table's fee is payable), 単価なし (no fee in the table), 契約期間外 (the clinic was not under contract
that day), 重複請求 (claimed twice: twice in the file, or already imported from a file; a dose first
entered by hand from the 予診票 is still payable once), 無効 (an error row), 照合待ち (in doubt),
取込まない (rejected), 予診のみ (a screening: shown, not paid).
"""

import csv
import io
from collections import defaultdict

from sesshu.audit.models import Action
from sesshu.audit.services import record as audit

from ..models import Clinic, ImportRow, ImportRowStatus, SourceFile
from .services import PURPOSE_FEES

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


def verdict(row: ImportRow, clinic: Clinic | None) -> tuple[str, int, str]:
    """(verdict, amount payable, reason) for one row."""
    v = row.values
    if row.status == ImportRowStatus.ERROR:
        return "無効", 0, "; ".join(p["message_ja"] for p in row.problems)
    if row.status == ImportRowStatus.DUPLICATE:
        first = row.problems[0] if row.problems else {}
        if first.get("code") != "already_recorded" or first.get("record_source") == "clinic_file":
            return "重複請求", 0, first.get("message_ja", "")
    if row.status == ImportRowStatus.DOUBT:
        return "照合待ち", 0, "; ".join(p["message_ja"] for p in row.problems if p)
    if row.status == ImportRowStatus.REJECTED:
        return "取込まない", 0, row.problems[-1]["message_ja"] if row.problems else ""
    if v.get("screening_only"):
        return "予診のみ", 0, v.get("not_vaccinated_reason", "")
    if not v.get("under_contract", True):
        return "契約期間外", 0, f"{clinic.name if clinic else ''} の契約期間外の接種です。"
    table = v.get("fee_table_yen")
    if table is None:
        return "単価なし", 0, "単価表にこのワクチン・接種回の委託料がありません。"
    claimed = v.get("fee_yen")
    if claimed is not None and claimed != table:
        return "請求額相違", table, f"請求額 {claimed}円、単価表 {table}円。"
    return "支払対象", table, ""


def fee_report_csv(source: SourceFile, *, actor) -> str:
    rows = list(ImportRow.objects.filter(source_file=source).order_by("row_number"))
    clinics = Clinic.objects.in_bulk({r.values.get("clinic_id") for r in rows if r.values.get("clinic_id")})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        v = row.values
        clinic = clinics.get(v.get("clinic_id"))
        kind, payable, reason = verdict(row, clinic)
        code = clinic.code if clinic else ""
        claimed = v.get("fee_yen") or 0
        totals[code][0] += claimed
        totals[code][1] += payable
        totals[code][2] += 1
        writer.writerow(
            [
                row.row_number,
                code,
                clinic.name if clinic else "",
                v.get("vaccine", ""),
                v.get("dose_number") or "",
                v.get("vaccinated_on") or "",
                "" if v.get("fee_yen") is None else v["fee_yen"],
                "" if v.get("fee_table_yen") is None else v["fee_table_yen"],
                payable,
                kind,
                reason,
            ]
        )
    for code, (claimed, payable, count) in sorted(totals.items()):
        name = clinics_by_code(clinics).get(code, "")
        writer.writerow(["合計", code, name, "", count, "", claimed, "", payable, "", ""])
    audit(
        Action.EXPORT,
        purpose=PURPOSE_FEES,
        object_type="clinic_file",
        subjects=sorted({r.person_id for r in rows if r.person_id}),
        detail={"file": source.pk, "rows": len(rows), "format": "csv"},
        actor=actor,
    )
    return out.getvalue()


def clinics_by_code(clinics: dict) -> dict[str, str]:
    return {c.code: c.name for c in clinics.values()}
