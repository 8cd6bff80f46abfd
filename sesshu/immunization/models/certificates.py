"""Certificates: 予防接種済証 (completion) and 接種証明書 (domestic, overseas), their register and revocation.

``VaccinationCertificate`` is the issuance register (交付簿): who issued which kind of certificate to whom,
when, with which records, signed with which key. ``contents`` is a snapshot of what was printed, so a
PDF downloaded later shows what was certified then, even if a record was corrected since (the correction
is a reason to revoke and reissue, not to change a certificate silently).

Passport data (旅券関係情報: ローマ字氏名, 国籍, 旅券番号, 旧姓・別姓・別名) is collected only for a
certificate and kept only with it, in ``CertificatePassport``; it is never copied to the person.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

__all__ = ["CertificateKind", "CertificatePassport", "VaccinationCertificate"]


class CertificateKind(models.TextChoices):
    COMPLETION = "completion", "予防接種済証"
    DOMESTIC = "domestic", "接種証明書（日本国内用）"
    OVERSEAS = "overseas", "接種証明書（海外用）"


class VaccinationCertificate(models.Model):
    certificate_id = models.CharField("証明書ID", max_length=24, unique=True)
    kind = models.CharField(max_length=12, choices=CertificateKind.choices)
    person = models.ForeignKey("addressee.Person", on_delete=models.PROTECT, related_name="certificates")
    records = models.ManyToManyField("immunization.VaccinationRecord", related_name="certificates")
    issued_at = models.DateTimeField("証明書発行年月日")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    contents = models.JSONField(default=dict)  # what the PDF prints (snapshot at issuance)
    key_id = models.CharField("署名鍵", max_length=64, blank=True)  # the kid of the signing key
    jws = models.TextField(blank=True)  # the SMART Health Card (compact JWS), for the two 接種証明書
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    revocation_reason = models.TextField("失効理由", blank=True)

    class Meta:
        verbose_name = "接種証明書 (vaccination certificate)"
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["person", "issued_at"], name="certificate_person_issued")]
        permissions = [
            ("issue_certificate", "Can issue vaccination certificates (予防接種済証・接種証明書)"),
            ("revoke_certificate", "Can revoke a vaccination certificate"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revocation_reason=""),
                name="certificate_revocation_reason",
            )
        ]

    def __str__(self) -> str:
        return self.certificate_id

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def has_health_card(self) -> bool:
        return bool(self.jws)


class CertificatePassport(models.Model):
    """旅券関係情報, kept with the one certificate it was given for (and deleted with it)."""

    certificate = models.OneToOneField(
        VaccinationCertificate, on_delete=models.CASCADE, primary_key=True, related_name="passport"
    )
    family_name_latin = models.CharField("ローマ字氏名（姓）", max_length=60)
    given_name_latin = models.CharField("ローマ字氏名（名）", max_length=60, blank=True)
    nationality = models.CharField("国籍", max_length=3)  # ISO 3166-1 alpha-3, as printed in passports
    passport_number = models.CharField("旅券番号", max_length=20)
    other_names = models.CharField("旧姓・別姓・別名", max_length=100, blank=True)

    def __str__(self) -> str:
        return f"passport for {self.certificate_id}"
