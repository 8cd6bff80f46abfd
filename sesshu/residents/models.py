"""住民基本台帳: households and residents, as much as the foundation needs.

The resident-register issue turns these into revisioned records with moves; until then a row is the
current state. The My Number is not here: it belongs to the addressee vault.
"""

from django.db import models


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class ResidentStatus(models.TextChoices):
    RESIDENT = "resident", "住民"
    MOVED_OUT = "moved_out", "転出"
    DECEASED = "deceased", "死亡"


class Household(models.Model):
    household_number = models.CharField("世帯番号", max_length=12, unique=True)
    postal_code = models.CharField("郵便番号", max_length=8)
    address = models.CharField("住所", max_length=200)

    class Meta:
        verbose_name = "世帯 (household)"

    def __str__(self) -> str:
        return self.household_number


class Resident(models.Model):
    resident_number = models.CharField("宛名番号 (住記)", max_length=12, unique=True)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members")
    relationship = models.CharField("続柄", max_length=20)
    is_head = models.BooleanField("世帯主", default=False)
    family_name = models.CharField("氏", max_length=50)
    given_name = models.CharField("名", max_length=50)
    family_name_kana = models.CharField("氏（カナ）", max_length=100)
    given_name_kana = models.CharField("名（カナ）", max_length=100)
    latin_name = models.CharField("ローマ字氏名", max_length=100, blank=True)
    alias = models.CharField("通称", max_length=100, blank=True)
    birth_date = models.DateField("生年月日")
    sex = models.CharField("性別", max_length=1, choices=Sex.choices)
    nationality = models.CharField("国籍", max_length=50, blank=True)  # blank: Japanese national
    residence_status = models.CharField("在留資格", max_length=50, blank=True)
    residence_expiry = models.DateField("在留期間満了日", null=True, blank=True)
    became_resident_on = models.DateField("住民となった日")
    became_resident_reason = models.CharField("住民となった事由", max_length=20)  # 出生 / 転入
    previous_address = models.CharField("前住所", max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=ResidentStatus.choices, default=ResidentStatus.RESIDENT)
    left_on = models.DateField("消除日", null=True, blank=True)
    left_reason = models.CharField("消除事由", max_length=20, blank=True)
    moved_to_address = models.CharField("転出先", max_length=200, blank=True)

    class Meta:
        verbose_name = "住民 (resident)"
        indexes = [models.Index(fields=["household", "is_head"])]

    def __str__(self) -> str:
        return self.resident_number

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}".strip()

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}".strip()
