"""予防接種台帳: vaccines and the vaccination records the person page shows.

The records issue adds the full set of record items, masters and imports.
"""

from django.conf import settings
from django.db import models

__all__ = [
    "Delivery",
    "DoctorDecision",
    "HistoryCheckStatus",
    "LegalCategory",
    "MoveInHistoryCheck",
    "Payment",
    "RecordSource",
    "RecordStatus",
    "VaccinationRecord",
    "VaccinationRecordQuerySet",
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
    FHIR = "fhir", "FHIR"
    MIGRATION = "migration", "移行データ"


class RecordStatus(models.TextChoices):
    ACTIVE = "active", "有効"
    SUPERSEDED = "superseded", "重複（他の記録に統合）"
    DELETED = "deleted", "削除"


class LegalCategory(models.TextChoices):
    """法定区分: the legal basis of the dose."""

    ROUTINE = "routine", "定期"
    TEMPORARY = "temporary", "臨時"
    SPECIFIC = "specific", "特定接種"
    RESIDENT = "resident", "住民接種"
    VOLUNTARY = "voluntary", "任意"


class Delivery(models.TextChoices):
    """実施区分."""

    INDIVIDUAL = "individual", "個別"
    GROUP = "group", "集団"


class Payment(models.TextChoices):
    """公費自費区分."""

    PUBLIC = "public", "公費"
    PARTIAL = "partial", "一部自己負担"
    SELF = "self", "自費"


class DoctorDecision(models.TextChoices):
    """医師の判断 after the 予診."""

    GIVE = "give", "接種可"
    DEFER = "defer", "見合わせ"
    REFUSE = "refuse", "接種不可"


class VaccinationRecordQuerySet(models.QuerySet):
    def active(self):
        """The records that count: neither deleted nor merged into another (superseded)."""
        return self.filter(status=RecordStatus.ACTIVE)

    def given(self):
        """Active records of doses actually given (a 予診のみ row records a screening, not a dose)."""
        return self.active().filter(screening_only=False)


class VaccinationRecord(models.Model):
    """One dose (or one 予診のみ visit) of one person: the items of 000's 別添2 and 003's file.

    Derived items are not stored: 年度, 接種時年齢, 年度末年齢 and 基準日年齢 follow from the
    dates; 混合接種何種 from the vaccine. Corrections keep the row (its id stays, so certificates,
    tickets and imports keep pointing at it) and copy the earlier state into ``versions``.

    The dose identity is (person, vaccine, 接種日) among active, given records: the same dose from a
    second source (a clinic file after a manual entry) is recognised by it, and the lot tells a
    duplicate (same lot) from a conflict to review (another lot).
    """

    # Indexes: every read of records goes by person (the (person, 接種日) index and the dose identity
    # lead with it), by id, or by file (the source row constraint). The keys nobody looks records up
    # by (masters, staff, ticket number) have none: each index is written for every record, which a
    # clinic file of 100,000 rows pays 100,000 times; deleting a master scans the table instead.
    # The mostly empty keys (doctors, superseded_by) have partial indexes: nothing is written for NULL.
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="vaccinations", db_index=False)
    vaccine = models.ForeignKey(Vaccine, on_delete=models.PROTECT, db_index=False)
    dose_number = models.PositiveSmallIntegerField("接種回")
    vaccinated_on = models.DateField("接種日")
    product = models.ForeignKey(
        "immunization.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    lot = models.ForeignKey(
        "immunization.Lot", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    maker_name = models.CharField("ワクチンメーカー", max_length=100, blank=True)
    product_name = models.CharField("ワクチン名", max_length=100, blank=True)
    lot_number = models.CharField("Lot", max_length=30, blank=True)
    volume_ml = models.DecimalField("接種量 (mL)", max_digits=5, decimal_places=2, null=True, blank=True)
    clinic = models.ForeignKey(
        "immunization.Clinic",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="records",
        db_index=False,
    )
    clinic_name = models.CharField("実施医療機関", max_length=100, blank=True)
    venue = models.CharField("接種会場", max_length=100, blank=True)
    screening_doctor = models.ForeignKey(
        "immunization.Doctor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    screening_doctor_name = models.CharField("問診医", max_length=50, blank=True)
    vaccinating_doctor = models.ForeignKey(
        "immunization.Doctor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    vaccinating_doctor_name = models.CharField("接種医", max_length=50, blank=True)
    legal_category = models.CharField(
        "法定区分", max_length=12, choices=LegalCategory.choices, default=LegalCategory.ROUTINE
    )
    delivery = models.CharField(
        "実施区分", max_length=12, choices=Delivery.choices, default=Delivery.INDIVIDUAL
    )
    payment = models.CharField("公費自費区分", max_length=10, choices=Payment.choices, default=Payment.PUBLIC)
    insurance_category = models.CharField("受診時国保区分", max_length=20, blank=True)
    billing_month = models.DateField("請求年月", null=True, blank=True)  # the 1st of the month
    fee_yen = models.PositiveIntegerField("委託料（円）", null=True, blank=True)
    screening_only = models.BooleanField("予診のみ", default=False)  # 予診フラグ: screened, not vaccinated
    not_vaccinated_reason = models.CharField("未接種理由", max_length=200, blank=True)
    doctor_decision = models.CharField(
        "医師の判断", max_length=10, choices=DoctorDecision.choices, blank=True
    )
    findings = models.TextField("所見", blank=True)
    # BCG: 発赤・硬結・二重発赤の反応径 (mm), and the 判定 read from them.
    redness_long_mm = models.PositiveSmallIntegerField("発赤 反応長径", null=True, blank=True)
    redness_short_mm = models.PositiveSmallIntegerField("発赤 反応短径", null=True, blank=True)
    induration_long_mm = models.PositiveSmallIntegerField("硬結 反応長径", null=True, blank=True)
    induration_short_mm = models.PositiveSmallIntegerField("硬結 反応短径", null=True, blank=True)
    double_redness_long_mm = models.PositiveSmallIntegerField("二重発赤 反応長径", null=True, blank=True)
    double_redness_short_mm = models.PositiveSmallIntegerField("二重発赤 反応短径", null=True, blank=True)
    reaction_judgement = models.CharField("判定", max_length=50, blank=True)
    detailed_exam_result = models.CharField("精密検査結果", max_length=200, blank=True)
    antibody_test = models.CharField("抗体価検査", max_length=200, blank=True)
    previous_vaccine_check = models.CharField("HPV過去ワクチン確認結果", max_length=100, blank=True)
    remarks = models.TextField("特記事項", blank=True)
    before_move_in = models.BooleanField("転入前接種", default=False)
    # The schedule engine's verdict when the record was entered (間違い接種 and why), and the note
    # of whoever saved it anyway.
    flagged = models.BooleanField("間違い接種の疑い", default=False)
    flag_reasons = models.JSONField(default=list, blank=True)
    flag_note = models.TextField("確認メモ", blank=True)
    ticket_number = models.CharField("接種券番号", max_length=30, blank=True)
    source = models.CharField(max_length=20, choices=RecordSource.choices)
    source_file = models.ForeignKey(  # looked up through vaccination_source_row_unique
        "immunization.SourceFile",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="records",
        db_index=False,
    )
    source_row = models.PositiveIntegerField(null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    registered_at = models.DateTimeField("登録日", auto_now_add=True)
    registered_branch = models.CharField("登録支所", max_length=50, blank=True)
    status = models.CharField(max_length=12, choices=RecordStatus.choices, default=RecordStatus.ACTIVE)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(null=True, blank=True)

    objects = VaccinationRecordQuerySet.as_manager()

    class Meta:
        verbose_name = "接種記録 (vaccination record)"
        indexes = [
            models.Index(fields=["person", "vaccinated_on"]),
            *(
                models.Index(
                    fields=[key], condition=models.Q(**{f"{key}__isnull": False}), name=f"vaccination_{key}"
                )
                for key in ("screening_doctor", "vaccinating_doctor", "superseded_by")
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "vaccine", "vaccinated_on"],
                condition=models.Q(status="active", screening_only=False),
                name="vaccination_dose_identity",
            ),
            models.UniqueConstraint(
                fields=["source_file", "source_row"],
                condition=models.Q(source_file__isnull=False),
                name="vaccination_source_row_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(volume_ml__isnull=True) | models.Q(volume_ml__gt=0),
                name="vaccination_volume_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(dose_number__gte=1), name="vaccination_dose_number_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status="superseded") | models.Q(superseded_by__isnull=True),
                name="vaccination_superseded_by_only_when_superseded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vaccine_id}#{self.dose_number} {self.vaccinated_on}"

    @property
    def dose_identity(self) -> tuple[int, str, object]:
        return (self.person_id, self.vaccine_id, self.vaccinated_on)


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
