"""予防接種台帳: vaccines and the vaccination records the person page shows.

The records issue adds the full set of record items, masters and imports.
"""

from django.db import models

__all__ = [
    "HistoryCheckStatus",
    "MoveInHistoryCheck",
    "RecordSource",
    "VaccinationRecord",
    "Vaccine",
    "VaccineCategory",
]

from sesshu.addressee.models import Person


class VaccineCategory(models.TextChoices):
    A = "A", "A類"
    B = "B", "B類"
    OTHER = "other", "その他"


class Vaccine(models.Model):
    code = models.CharField(max_length=20, primary_key=True)
    name_ja = models.CharField(max_length=50)
    name_en = models.CharField(max_length=80)
    category = models.CharField(max_length=5, choices=VaccineCategory.choices)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.code


class RecordSource(models.TextChoices):
    SYNTHETIC = "synthetic", "合成データ"
    MANUAL = "manual", "手入力"
    CLINIC_FILE = "clinic_file", "医療機関ファイル"


class VaccinationRecord(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="vaccinations")
    vaccine = models.ForeignKey(Vaccine, on_delete=models.PROTECT)
    dose_number = models.PositiveSmallIntegerField("接種回")
    vaccinated_on = models.DateField("接種日")
    clinic_name = models.CharField("実施医療機関", max_length=100, blank=True)
    lot_number = models.CharField("Lot", max_length=30, blank=True)
    before_move_in = models.BooleanField("転入前接種", default=False)
    source = models.CharField(max_length=20, choices=RecordSource.choices)
    registered_at = models.DateTimeField("登録日", auto_now_add=True)

    class Meta:
        verbose_name = "接種記録 (vaccination record)"
        indexes = [models.Index(fields=["person", "vaccinated_on"])]

    def __str__(self) -> str:
        return f"{self.vaccine_id}#{self.dose_number} {self.vaccinated_on}"


class HistoryCheckStatus(models.TextChoices):
    OPEN = "open", "未確認"
    DONE = "done", "確認済"


class MoveInHistoryCheck(models.Model):
    """転入者の接種歴確認: someone moved in, so the health centre asks for their vaccination history
    (the 母子健康手帳, or the previous city through the exchange). Made from the register's events."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="history_checks")
    register_event_id = models.BigIntegerField(unique=True)
    moved_in_on = models.DateField("転入日")
    previous_address = models.CharField("前住所", max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=HistoryCheckStatus.choices, default=HistoryCheckStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.person_id} {self.moved_in_on}"
