import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class Staff(AbstractUser):
    """A staff member: one account per person (the seeds forbid shared IDs)."""

    display_name = models.CharField("表示名 (display name)", max_length=100, blank=True)
    department = models.CharField("所属 (department)", max_length=100, blank=True)

    class Meta:
        verbose_name = "職員 (staff)"
        verbose_name_plural = "職員 (staff)"

    def __str__(self) -> str:
        return self.display_name or self.username


class Terminal(models.Model):
    """A designated terminal (指定端末): the audit log names it beside the address it came from."""

    name = models.CharField("端末名 (terminal name)", max_length=100, unique=True)
    ip_address = models.GenericIPAddressField("IPアドレス", unique=True)
    location = models.CharField("設置場所 (location)", max_length=100, blank=True)
    active = models.BooleanField("有効 (active)", default=True)

    class Meta:
        verbose_name = "端末 (terminal)"
        verbose_name_plural = "端末 (terminals)"

    def __str__(self) -> str:
        return f"{self.name} ({self.ip_address})"


class ApiToken(models.Model):
    """A token for a system calling the API on behalf of a staff account. Only its hash is stored."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途 (purpose)", max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "APIトークン (API token)"
        verbose_name_plural = "APIトークン (API tokens)"

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()

    @classmethod
    def issue(cls, staff: Staff, name: str, expires_at=None) -> tuple["ApiToken", str]:
        """Create a token; the plain key is returned once and never stored."""
        key = "ssh_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            staff=staff, name=name, prefix=key[:8], key_hash=cls.hash_key(key), expires_at=expires_at
        )
        return token, key

    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
