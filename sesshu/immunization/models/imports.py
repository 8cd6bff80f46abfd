"""imports models: the rows of a clinic's monthly file, kept between the preview and the commit.

The file itself is a ``SourceFile`` (records module: sha256, clinic, 請求年月, status); each row is an
``ImportRow`` holding the values as read, the problems found, the person it matched (or the
candidates when in doubt) and, once committed or resolved, the record it became.

A row's values are two parts. *Who* (ticket number, names, birth date, sex, address) is the row's
own (``ImportRow.who``). *The dose* (vaccine, date, lot, clinic, doctors, 区分, fee, ...) repeats: a
month's file of 100,000 rows has a few thousand distinct dose parts, so each is stored once per file
(``ImportDose``) and the rows point to it. ``ImportRow.values`` is the two together, as read.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .records import SourceFileStatus

__all__ = ["ImportDose", "ImportRow", "ImportRowStatus"]


class ImportRowStatus(models.TextChoices):
    MATCHED = "matched", "照合済"
    DOUBT = "doubt", "要確認"
    ERROR = "error", "エラー"
    DUPLICATE = "duplicate", "登録済（重複）"
    IMPORTED = "imported", "取込済"
    REJECTED = "rejected", "取込まない"

    @classmethod
    def shown(cls, status: str, file_status: str) -> str:
        """A row's status as a clerk sees it. The commit writes the records of a file's matched rows
        and marks the file 取込済, not each row again (a 100,000-row file's rows would all be
        rewritten): a matched row of an imported file is 取込済. A row resolved after the commit is
        set to 取込済 itself, with its record."""
        if status == cls.MATCHED and file_status == SourceFileStatus.COMMITTED:
            return cls.IMPORTED
        return status


class ImportDose(models.Model):
    """The dose part of a file's rows (cleaned values: vaccine code, ISO date, master ids, ...), shared
    by every row of the file with the same dose cells."""

    source_file = models.ForeignKey(
        "immunization.SourceFile", on_delete=models.CASCADE, related_name="import_doses"
    )
    values = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.source_file_id}: {self.values.get('vaccine')} {self.values.get('vaccinated_on')}"


class ImportRowManager(models.Manager):
    def get_queryset(self):
        # Every use of a row reads its values and its state, so the dose part and the file come in
        # the same query.
        return super().get_queryset().select_related("dose", "source_file")


class ImportRow(models.Model):
    # Indexes (each is written for every row of every file): rows are read by file
    # (import_row_unique leads with it), and across files only for the review queue (the partial
    # import_row_doubt). Nobody looks rows up by person, record or clerk: the mostly empty keys have
    # partial indexes, the person none.
    source_file = models.ForeignKey(
        "immunization.SourceFile", on_delete=models.CASCADE, related_name="import_rows", db_index=False
    )
    row_number = models.PositiveIntegerField()  # the line in the file (the header is line 1)
    who = models.JSONField(default=dict)  # what the row says of the person, cleaned (dates ISO)
    dose = models.ForeignKey(ImportDose, on_delete=models.CASCADE, related_name="rows", db_index=False)
    status = models.CharField(max_length=10, choices=ImportRowStatus.choices)
    problems = models.JSONField(default=list, blank=True)  # [{code, field, message_ja, message_en}]
    person = models.ForeignKey(
        "addressee.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    candidates = models.JSONField(default=list, blank=True)  # person ids when the match is in doubt
    record = models.ForeignKey(
        "immunization.VaccinationRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = ImportRowManager()

    class Meta:
        ordering = ["source_file", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["source_file", "row_number"], name="import_row_unique")
        ]
        indexes = [
            # The review queue: rows in doubt of every file, in file and line order.
            models.Index(
                fields=["source_file", "row_number"], condition=Q(status="doubt"), name="import_row_doubt"
            ),
            *(
                models.Index(fields=[key], condition=Q(**{f"{key}__isnull": False}), name=f"import_row_{key}")
                for key in ("record", "decided_by")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_file_id}:{self.row_number} {self.status}"

    @property
    def state(self) -> str:
        """The row's status as a clerk sees it (``ImportRowStatus.shown``)."""
        return ImportRowStatus.shown(self.status, self.source_file.status)

    def get_status_display(self) -> str:
        return ImportRowStatus(self.state).label

    @property
    def values(self) -> dict:
        """What the row says, cleaned: the who part and the dose part together."""
        return {**self.who, **self.dose.values}
