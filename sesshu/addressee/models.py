"""統合宛名: the one identity of every person the city deals with, residents and non-residents alike.

Every other app refers to a person by ``Person`` (its 統合宛名番号). Each business system's own
number (the register's 宛名番号, later the immunization system's) links to it through
``BusinessNumber``. The 5情報 kept here are a copy, maintained from the register's events, with
normalized keys for search. The My Number vault arrives with the addressee issue.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PersonKind(models.TextChoices):
    RESIDENT = "resident", "住民"
    NON_RESIDENT = "non_resident", "住登外者"


class PersonStatus(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")
    DELETED = "deleted", _("Deleted from the register")
    NON_RESIDENT = "non_resident", _("Non-resident")


class Person(models.Model):
    integrated_number = models.CharField("統合宛名番号", max_length=15, unique=True)
    kind = models.CharField(max_length=12, choices=PersonKind.choices)
    status = models.CharField(max_length=12, choices=PersonStatus.choices)
    status_date = models.DateField("異動日", null=True, blank=True)
    family_name = models.CharField("氏", max_length=50)
    given_name = models.CharField("名", max_length=50)
    family_name_kana = models.CharField("氏（カナ）", max_length=100)
    given_name_kana = models.CharField("名（カナ）", max_length=100)
    latin_name = models.CharField("ローマ字氏名", max_length=100, blank=True)
    birth_date = models.DateField("生年月日", db_index=True)
    sex = models.CharField("性別", max_length=1)
    postal_code = models.CharField("郵便番号", max_length=8, blank=True)
    address = models.CharField("住所", max_length=200, blank=True)
    # 支援措置 (DV, stalking, abuse: from the register): the address is withheld from every screen, print
    # and export of staff without addressee.view_protected_address; mail goes to the address below.
    protected = models.BooleanField("支援措置", default=False)
    alternative_postal_code = models.CharField("送付先郵便番号", max_length=8, blank=True)
    alternative_address = models.CharField("送付先住所", max_length=200, blank=True)
    # Where a non-resident's 5情報 came from (a vaccination report, another city's notice, ...).
    source = models.CharField("登録の根拠", max_length=200, blank=True)
    # Search keys (sesshu.core.text): family+given, and given alone, so "タナカ" and "タロウ" both find
    # 田中 太郎; kept in sync by the service that writes the person.
    kana_key = models.CharField(max_length=200, db_index=True)
    given_kana_key = models.CharField(max_length=100, db_index=True)
    kanji_key = models.CharField(max_length=100, db_index=True)
    given_kanji_key = models.CharField(max_length=50, db_index=True)
    latin_key = models.CharField(max_length=100, blank=True, db_index=True)
    address_key = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "統合宛名 (person)"
        permissions = [
            ("search_person", "宛名検索 (search persons)"),
            ("use_mynumber", "番号利用事務 (My Number work)"),
            ("view_protected_address", "支援措置対象者の住所の閲覧 (see a protected person's address)"),
            ("register_non_resident", "住登外者の登録 (register non-residents)"),
        ]

    def __str__(self) -> str:
        return self.integrated_number

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}".strip()

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}".strip()


class BusinessSystem(models.TextChoices):
    RESIDENTS = "residents", "住民基本台帳"
    IMMUNIZATION = "immunization", "予防接種台帳"


class BusinessNumber(models.Model):
    """A business system's own addressee number for a person (業務宛名番号 → 統合宛名番号)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="business_numbers")
    system = models.CharField(max_length=20, choices=BusinessSystem.choices)
    number = models.CharField(max_length=20)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["system", "number"], name="business_number_unique")]
        indexes = [models.Index(fields=["person", "system"])]

    def __str__(self) -> str:
        return f"{self.system}:{self.number}"


from .models_vault import *  # noqa: E402,F403
