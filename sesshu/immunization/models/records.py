"""records models: the masters a vaccination record refers to, where a record came from, and its history.

The record itself (``VaccinationRecord``) lives in ``base``; this module holds what hangs around it:

- masters: makers, products (販売名) with their standard volume, lots with expiry, clinics (医療機関)
  with contract period and a fee table (委託料) per vaccine and dose, doctors (問診医・接種医);
- ``SourceFile``: a clinic's monthly file or a FHIR Bundle a record was read from (the import builds on it);
- ``RecordVersion``: every earlier state of a record, kept when a correction or deletion is confirmed;
- ``RecordChange``: a proposed correction or deletion waiting for a second person (four-eyes).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

__all__ = [
    "ChangeKind",
    "ChangeStatus",
    "Clinic",
    "ClinicFee",
    "Doctor",
    "Lot",
    "Maker",
    "Product",
    "RecordChange",
    "RecordVersion",
    "SourceFile",
    "SourceFileKind",
    "SourceFileStatus",
]


class Maker(models.Model):
    """ワクチンメーカー (the manufacturer or the marketing authorisation holder)."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField("ワクチンメーカー", max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A vaccine product (販売名) of one vaccine, made by one maker."""

    vaccine = models.ForeignKey("immunization.Vaccine", on_delete=models.PROTECT, related_name="products")
    maker = models.ForeignKey(Maker, on_delete=models.PROTECT, related_name="products")
    code = models.CharField(max_length=30, unique=True)
    name = models.CharField("販売名", max_length=100)
    # HOT9 (MEDIS 医薬品HOTコード, 9 digits): JP Core binds Immunization.vaccineCode to HOT/YJ codes.
    hot_code = models.CharField("HOTコード", max_length=13, blank=True)
    # None where a volume does not apply (BCG is given percutaneously with a multi-puncture device).
    standard_volume_ml = models.DecimalField(
        "標準接種量 (mL)", max_digits=5, decimal_places=2, null=True, blank=True
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["vaccine__sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(standard_volume_ml__isnull=True) | Q(standard_volume_ml__gt=0),
                name="product_volume_positive",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Lot(models.Model):
    """A lot of a product, with the expiry date after which it may not be given (有効期限)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField("Lot", max_length=30)
    expires_on = models.DateField("有効期限")

    class Meta:
        ordering = ["product", "expires_on"]
        constraints = [models.UniqueConstraint(fields=["product", "lot_number"], name="lot_unique")]
        indexes = [models.Index(fields=["lot_number"])]

    def __str__(self) -> str:
        return f"{self.lot_number} ({self.product})"


class Clinic(models.Model):
    """実施医療機関: a clinic (or the city's mass vaccination site) under contract (委託契約)."""

    code = models.CharField("医療機関コード", max_length=10, unique=True)
    name = models.CharField("医療機関名", max_length=100)
    name_kana = models.CharField("医療機関名（カナ）", max_length=200, blank=True)
    address = models.CharField("所在地", max_length=200, blank=True)
    contract_from = models.DateField("契約開始日")
    contract_to = models.DateField("契約終了日", null=True, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contract_to__isnull=True) | Q(contract_to__gte=models.F("contract_from")),
                name="clinic_contract_period",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def under_contract_on(self, day) -> bool:
        return self.contract_from <= day and (self.contract_to is None or day <= self.contract_to)


class ClinicFee(models.Model):
    """One line of a clinic's fee table (委託料): the fee for a vaccine (and dose) from a date on.

    ``dose_number`` 0 means every dose of the vaccine; a line for a specific dose wins over it.
    The fee in force on a day is the line with the latest ``valid_from`` on or before it.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="fees")
    vaccine = models.ForeignKey("immunization.Vaccine", on_delete=models.PROTECT, related_name="+")
    dose_number = models.PositiveSmallIntegerField("接種回 (0=全回)", default=0)
    fee_yen = models.PositiveIntegerField("委託料（円）")
    valid_from = models.DateField("適用開始日")

    class Meta:
        ordering = ["clinic", "vaccine", "dose_number", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "vaccine", "dose_number", "valid_from"], name="clinic_fee_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.clinic_id} {self.vaccine_id}#{self.dose_number} {self.fee_yen}円 ({self.valid_from}~)"


class Doctor(models.Model):
    """問診医・接種医, with the clinic they belong to (所属)."""

    name = models.CharField("医師名", max_length=50)
    name_kana = models.CharField("医師名（カナ）", max_length=100, blank=True)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="doctors", null=True, blank=True
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["clinic", "name_kana", "name"]

    def __str__(self) -> str:
        return self.name


class SourceFileKind(models.TextChoices):
    CLINIC_CSV = "clinic_csv", "医療機関CSV"
    FHIR_BUNDLE = "fhir_bundle", "FHIR Bundle"


class SourceFileStatus(models.TextChoices):
    PREVIEW = "preview", "確認中"
    COMMITTED = "committed", "取込済"
    REJECTED = "rejected", "取消"


class SourceFile(models.Model):
    """A file records were read from. The same bytes twice are one file (``sha256`` is unique)."""

    kind = models.CharField(max_length=20, choices=SourceFileKind.choices)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, unique=True)
    size_bytes = models.PositiveBigIntegerField()
    encoding = models.CharField(max_length=20, blank=True)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    billing_month = models.DateField("請求年月", null=True, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=SourceFileStatus.choices, default=SourceFileStatus.PREVIEW
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.file_name


class RecordVersion(models.Model):
    """An earlier state of a record: its fields as they were (``data``), kept when a change replaced it."""

    record = models.ForeignKey(
        "immunization.VaccinationRecord", on_delete=models.PROTECT, related_name="versions"
    )
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=12)
    data = models.JSONField()
    change = models.ForeignKey("RecordChange", on_delete=models.PROTECT, related_name="+", null=True)
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["record", "version"]
        constraints = [models.UniqueConstraint(fields=["record", "version"], name="record_version_unique")]

    def __str__(self) -> str:
        return f"{self.record_id} v{self.version}"


class ChangeKind(models.TextChoices):
    CORRECT = "correct", "訂正"
    DELETE = "delete", "削除"


class ChangeStatus(models.TextChoices):
    PENDING = "pending", "確認待ち"
    CONFIRMED = "confirmed", "確認済"
    REJECTED = "rejected", "差戻し"
    WITHDRAWN = "withdrawn", "取下げ"


class RecordChange(models.Model):
    """A correction or deletion proposed by one person, applied only when a different person confirms.

    ``proposed`` holds the fields to change (new values, as the entry form cleaned them); ``based_on``
    is the record's version when proposed, so a change cannot be confirmed over a newer one.
    """

    record = models.ForeignKey(
        "immunization.VaccinationRecord", on_delete=models.PROTECT, related_name="changes"
    )
    kind = models.CharField(max_length=10, choices=ChangeKind.choices)
    proposed = models.JSONField(default=dict)
    reason = models.TextField("理由")
    based_on = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField("差戻し理由", blank=True)

    class Meta:
        ordering = ["proposed_at", "pk"]
        permissions = [
            ("confirm_recordchange", "Can confirm a correction or deletion of a vaccination record")
        ]
        constraints = [
            # One open proposal per record: a second would be decided against a state that may vanish.
            models.UniqueConstraint(
                fields=["record"], condition=Q(status="pending"), name="record_change_one_pending"
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="record_change_rejection_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.record_id} ({self.status})"
