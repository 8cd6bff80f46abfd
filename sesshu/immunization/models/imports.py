"""imports models: the rows of a clinic's monthly file, kept between the preview and the commit.

The file itself is a ``SourceFile`` (records module: sha256, clinic, 請求年月, status); each row is an
``ImportRow`` holding the values as read (JSON), the problems found, the person it matched (or the
candidates when in doubt) and, once committed or resolved, the record it became.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

__all__ = ["ImportRow", "ImportRowStatus"]


class ImportRowStatus(models.TextChoices):
    MATCHED = "matched", "照合済"
    DOUBT = "doubt", "要確認"
    ERROR = "error", "エラー"
    DUPLICATE = "duplicate", "登録済（重複）"
    IMPORTED = "imported", "取込済"
    REJECTED = "rejected", "取込まない"


class ImportRow(models.Model):
    # Indexes (each is written for every row of every file, and again when the commit sets the rows
    # to 取込済): rows are read by file (import_row_unique leads with it), and across files only for
    # the review queue (the partial import_row_doubt). Nobody looks rows up by person, record or
    # clerk: the mostly empty keys have partial indexes, the person none.
    source_file = models.ForeignKey(
        "immunization.SourceFile", on_delete=models.CASCADE, related_name="import_rows", db_index=False
    )
    row_number = models.PositiveIntegerField()  # the line in the file (the header is line 1)
    values = models.JSONField(default=dict)  # what the row says, cleaned (dates ISO, codes)
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
