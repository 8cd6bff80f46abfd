"""対象者抽出 and what is mailed from it: extraction batches, their runs, notices (接種券・予診票) and
reminders (勧奨通知), and the ticket-number counter.

A batch is one set of parameters (purpose, period, series); each run of it is reproducible (its as-of
date and the rules version are kept) and adds only persons not yet in the batch. A run writes its
notices in chunks and is ``done`` only when the last chunk is in: notices of a run that is not done
are never printed, exported or shown as sent (see sesshu/immunization/extraction.py).
"""

from django.conf import settings
from django.db import models

from sesshu.addressee.models import Person

__all__ = [
    "BatchPurpose",
    "ExtractionBatch",
    "ExtractionRun",
    "MailTo",
    "Notice",
    "NoticeStatus",
    "PeriodKind",
    "RunStatus",
    "TicketCounter",
]


class BatchPurpose(models.TextChoices):
    NOTICE = "notice", "予防接種のお知らせ（接種券・予診票）"
    REMINDER = "reminder", "勧奨通知"


class PeriodKind(models.TextChoices):
    FISCAL_YEAR = "fiscal_year", "年度"
    MONTH = "month", "月"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "待機中"
    RUNNING = "running", "実行中"
    INTERRUPTED = "interrupted", "中断"
    DONE = "done", "完了"
    FAILED = "failed", "失敗（取り消し済み）"
    ROLLED_BACK = "rolled_back", "取り消し"


class ExtractionBatch(models.Model):
    """One set of extraction parameters; rerunning the same parameters adds to this batch."""

    purpose = models.CharField(max_length=10, choices=BatchPurpose.choices)
    period_kind = models.CharField(max_length=12, choices=PeriodKind.choices)
    period_start = models.DateField("対象期間（開始）")
    period_end = models.DateField("対象期間（終了）")
    series = models.JSONField(default=list)  # sorted series codes, e.g. ["Flu", "MR-2"]
    # purpose|period_start|period_end|series...: the same parameters find the same batch.
    key = models.CharField(max_length=300, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "対象者抽出 (extraction batch)"
        ordering = ["-created_at", "-id"]
        permissions = [("export_notices", "通知の出力 (print and export notices)")]

    def __str__(self) -> str:
        return self.key


class ExtractionRun(models.Model):
    """One run of a batch: as of a date, under a rules version; written in chunks, done at the end."""

    batch = models.ForeignKey(ExtractionBatch, on_delete=models.PROTECT, related_name="runs")
    number = models.PositiveIntegerField()
    as_of = models.DateField("基準日")
    rules_version = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED)
    persons_total = models.PositiveIntegerField(null=True, blank=True)  # residents to forecast
    persons_checked = models.PositiveIntegerField(default=0)
    candidates = models.PositiveIntegerField(null=True, blank=True)  # notices this run writes in all
    written = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # each chunk; a stale one = killed
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "number"]
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="extraction_run_number")]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.number} {self.status}"


class NoticeStatus(models.TextChoices):
    ISSUED = "issued", "発行"
    VOIDED = "voided", "無効（再発行済み）"


class MailTo(models.TextChoices):
    HOME = "home", "住所"
    ALTERNATIVE = "alternative", "送付先（支援措置）"
    HELD = "held", "送付保留（支援措置・送付先未登録）"


class Notice(models.Model):
    """One mailed document for one person and one series, with its ticket number (接種券番号).

    The mailing name and address are kept as printed (the alternative address for a protected person,
    nothing for one without it), so a reprint shows what was sent and never the protected home address.
    """

    batch = models.ForeignKey(ExtractionBatch, on_delete=models.PROTECT, related_name="notices")
    run = models.ForeignKey(ExtractionRun, on_delete=models.PROTECT, related_name="notices")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=10, choices=BatchPurpose.choices)
    series = models.CharField("シリーズ", max_length=20)
    dose_number = models.PositiveSmallIntegerField("接種回")
    ticket_number = models.CharField("接種券番号", max_length=16, unique=True)
    status = models.CharField(max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.ISSUED)
    reason = models.CharField(max_length=20, blank=True)  # reminders: "incomplete" or "not_started"
    age = models.PositiveSmallIntegerField("対象期間末日の年齢")
    earliest = models.DateField(null=True, blank=True)
    recommended_from = models.DateField(null=True, blank=True)
    recommended_until = models.DateField(null=True, blank=True)
    deadline = models.DateField(null=True, blank=True)
    mail_to = models.CharField(max_length=12, choices=MailTo.choices)
    addressee_name = models.CharField(max_length=100)
    addressee_kana = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=8, blank=True)
    address = models.CharField(max_length=200, blank=True)
    issued_at = models.DateTimeField()
    reissue_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reissued_as"
    )
    reissue_reason = models.CharField("再発行の理由", max_length=200, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "通知 (notice)"
        constraints = [
            # A reissue is a second notice of the same series: only the first is unique per batch.
            models.UniqueConstraint(
                fields=["batch", "person", "series"],
                condition=models.Q(reissue_of__isnull=True),
                name="notice_once_per_batch",
            )
        ]
        indexes = [
            models.Index(fields=["person", "issued_at"]),
            models.Index(fields=["batch", "series", "age"]),
            models.Index(fields=["run"]),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_number} {self.series}"


class TicketCounter(models.Model):
    """The last ticket serial used (one row); runs take blocks of serials under a row lock."""

    last_serial = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.last_serial)
