"""What the notice screens and commands do with a batch's notices, each export and change audited:
the print CSV, the PDFs (in parts of at most PART_NOTICES notices), a person's notice history, reissue.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sesshu.audit.models import Action
from sesshu.audit.services import record
from sesshu.core.problems import Problem
from sesshu.core.text import nfkc

from ..extraction import PURPOSE_EXTRACT, mailing, released
from ..models import BatchPurpose, ExtractionBatch, MailTo, Notice, NoticeStatus, RunStatus
from . import print_csv
from .engine import is_a_class, series_label
from .pdf import NoticeDocument, RenderedNotices, render_notices
from .tickets import allocate_serials, make_ticket_number, parse_ticket_number

PURPOSE_EXPORT = "予防接種 通知の出力 (immunization: printing notices)"
PURPOSE_REISSUE = "予防接種 通知の再発行 (immunization: reissuing a notice)"
PURPOSE_HISTORY = "予防接種 通知履歴 (immunization: notice history)"
PART_NOTICES = 500  # notices per PDF file (1,000 pages): a size a print room's PC opens quickly
REASON_MAX = 200


def batch_not_found() -> Problem:
    return Problem("not_found", "該当する抽出がありません。", "No such extraction batch.")


def get_batch(batch_id: int) -> ExtractionBatch:
    batch = ExtractionBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise batch_not_found()
    return batch


def batch_notices(batch: ExtractionBatch):
    """The notices of the batch that may be printed: released (finished runs), not voided."""
    return released(batch.notices.filter(status=NoticeStatus.ISSUED))


def contact() -> str:
    return (
        getattr(settings, "SESSHU_NOTICE_CONTACT", "")
        or f"{settings.SESSHU_CITY_NAME} 健康管理課 予防接種担当"
    )


def document(notice: Notice) -> NoticeDocument:
    person = notice.person
    return NoticeDocument(
        ticket_number=notice.ticket_number,
        reminder=notice.kind == BatchPurpose.REMINDER,
        reminder_reason=notice.reason if notice.kind == BatchPurpose.REMINDER else "",
        reissue=notice.reissue_of_id is not None,
        city_name=settings.SESSHU_CITY_NAME,
        contact=contact(),
        issued_on=timezone.localtime(notice.issued_at).date(),
        postal_code=notice.postal_code,
        address=notice.address,
        home_address=notice.address if notice.mail_to == MailTo.HOME else "",
        addressee=notice.addressee_name,
        honorific=print_csv.honorific(notice.series, notice.age),
        name=notice.addressee_name,
        name_kana=notice.addressee_kana,
        birth_date=person.birth_date,
        sex="男" if person.sex == "M" else "女",
        age=notice.age,
        series=notice.series,
        series_label=series_label(notice.series),
        dose_number=notice.dose_number,
        earliest=notice.earliest,
        recommended_from=notice.recommended_from,
        recommended_until=notice.recommended_until,
        deadline=notice.deadline,
        free=is_a_class(notice.series),
    )


def _check_released(batch: ExtractionBatch) -> None:
    if batch.runs.exclude(status__in=[RunStatus.DONE, RunStatus.FAILED, RunStatus.ROLLED_BACK]).exists():
        raise Problem(
            "batch_not_done",
            "この抽出は実行中か中断しています。完了してから出力してください。",
            "This extraction is running or was interrupted; export it once it is done.",
        )


def export_csv(batch: ExtractionBatch, encoding: str) -> print_csv.PrintFile:
    if encoding not in print_csv.ENCODINGS:
        raise Problem(
            "invalid_encoding",
            "文字コードは CP932 か UTF-8 を選んでください。",
            "Choose CP932 or UTF-8.",
            "encoding",
        )
    _check_released(batch)
    result = print_csv.build(print_csv.printable(batch.notices.all()).iterator(chunk_size=2000), encoding)
    record(
        Action.EXPORT,
        purpose=PURPOSE_EXPORT,
        object_type="notice",
        subjects=result.person_ids,
        result_count=result.rows,
        criteria={"batch": batch.pk, "format": "csv", "encoding": encoding},
        detail={"replaced_characters": result.replaced_characters},
    )
    return result


def pdf_parts(batch: ExtractionBatch) -> int:
    count = batch_notices(batch).count()
    return max(1, -(-count // PART_NOTICES))


def export_pdf(batch: ExtractionBatch, part: int = 1) -> RenderedNotices:
    _check_released(batch)
    parts = pdf_parts(batch)
    if not 1 <= part <= parts:
        raise Problem("invalid_part", "その番号のファイルはありません。", "No such part.", "part")
    notices = list(
        batch_notices(batch)
        .select_related("person")
        .order_by("postal_code", "id")[(part - 1) * PART_NOTICES : part * PART_NOTICES]
    )
    rendered = render_notices([document(n) for n in notices])
    record(
        Action.EXPORT,
        purpose=PURPOSE_EXPORT,
        object_type="notice",
        subjects=[n.person_id for n in notices],
        result_count=len(notices),
        criteria={"batch": batch.pk, "format": "pdf", "part": part, "parts": parts},
        detail={"pages": rendered.pages},
    )
    return rendered


def export_notice_pdf(notice_id: int) -> tuple[Notice, RenderedNotices]:
    """One notice's PDF (a reissue handed over at the counter)."""
    notice = released(Notice.objects.filter(pk=notice_id)).select_related("person").first()
    if notice is None:
        raise Problem("not_found", "該当する通知がありません。", "No such notice.")
    rendered = render_notices([document(notice)])
    record(
        Action.EXPORT,
        purpose=PURPOSE_EXPORT,
        object_type="notice",
        subjects=[notice.person_id],
        result_count=1,
        criteria={"notice": notice.pk, "format": "pdf"},
    )
    return notice, rendered


def notices_of_person(person_id: int) -> list[Notice]:
    """The person's notices and reminders, newest first (released runs only). The person page's view
    event already names the person; this adds no event of its own."""
    return list(
        released(Notice.objects.filter(person_id=person_id))
        .select_related("batch", "run", "reissue_of")
        .order_by("-issued_at", "-id")
    )


@dataclass(frozen=True)
class Reissued:
    old: Notice
    new: Notice


def reissue(notice_id: int, reason: str, *, user=None) -> Reissued:
    """再発行: void the notice and issue a new one with a new ticket number, mailed to where the person
    is mailed today (a move or a protection since the first one is followed)."""
    reason = nfkc(str(reason or "")).strip()
    if not reason:
        raise Problem(
            "reason_required", "再発行の理由を入力してください。", "Enter the reason for reissue.", "reason"
        )
    if len(reason) > REASON_MAX:
        raise Problem(
            "too_long",
            f"再発行の理由は{REASON_MAX}文字以内で入力してください。",
            f"The reason is at most {REASON_MAX} characters.",
            "reason",
        )
    with transaction.atomic():
        old = released(Notice.objects.select_for_update().filter(pk=notice_id)).first()
        if old is None:
            raise Problem("not_found", "該当する通知がありません。", "No such notice.")
        if old.status != NoticeStatus.ISSUED:
            raise Problem(
                "already_voided",
                "この通知はすでに無効です（再発行済み）。新しい通知を再発行してください。",
                "This notice is already void (reissued); reissue the new one instead.",
            )
        person = old.person
        mail_to, postal_code, address = mailing(person)
        now = timezone.now()
        Notice.objects.filter(pk=old.pk).update(status=NoticeStatus.VOIDED, voided_at=now, voided_by=user)
        old.status, old.voided_at, old.voided_by = NoticeStatus.VOIDED, now, user
        (serial,) = allocate_serials(1)
        new = Notice.objects.create(
            batch=old.batch,
            run=old.run,
            person=person,
            kind=old.kind,
            series=old.series,
            dose_number=old.dose_number,
            ticket_number=make_ticket_number(serial),
            reason=old.reason,
            age=old.age,
            earliest=old.earliest,
            recommended_from=old.recommended_from,
            recommended_until=old.recommended_until,
            deadline=old.deadline,
            mail_to=mail_to,
            addressee_name=person.full_name,
            addressee_kana=person.full_name_kana,
            postal_code=postal_code,
            address=address,
            issued_at=now,
            reissue_of=old,
            reissue_reason=reason,
        )
        record(
            Action.CHANGE,
            purpose=PURPOSE_REISSUE,
            object_type="notice",
            subjects=[person.pk],
            criteria={"notice": old.pk, "batch": old.batch_id},
            detail={"voided": old.ticket_number, "issued": new.ticket_number, "reason": reason},
        )
    return Reissued(old, new)


def find_by_ticket(raw: str) -> Notice:
    """The notice with this ticket number (as typed or read from the QR code)."""
    number = parse_ticket_number(raw)
    notice = released(Notice.objects.filter(ticket_number=number)).select_related("person").first()
    if notice is None:
        raise Problem("not_found", "該当する通知がありません。", "No such notice.", "ticket_number")
    record(
        Action.SEARCH,
        purpose=PURPOSE_EXTRACT,
        object_type="notice",
        subjects=[notice.person_id],
        criteria={"ticket_number": number},
        result_count=1,
    )
    return notice
