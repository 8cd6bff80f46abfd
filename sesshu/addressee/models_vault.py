"""The My Number vault's tables: data keys (wrapped, never plain) and one encrypted number per person.

No column holds a number or a key in the clear: ``MyNumberRecord`` keeps the AES-256-GCM ciphertext,
its nonce, the data key it was made with and an HMAC blind index for look-ups; ``DataKey`` keeps each
data key wrapped by a master key that lives outside the database (sesshu.addressee.keys). Reading and
writing go through sesshu.addressee.vault only.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from . import keys  # noqa: F401  (registers the startup check of the key configuration)
from .models import Person


class IdentityCheck(models.TextChoices):
    """How the number and the person's identity were confirmed when the number was registered."""

    MYNUMBER_CARD = "mynumber_card", "マイナンバーカード"
    NOTIFICATION_CARD = "notification_card", "通知カード＋写真付き本人確認書類"
    JUMINHYO = "juminhyo", "住民票（個人番号入り）＋写真付き本人確認書類"
    # Numbers the system receives from the register or the national issuer (J-LIS) need no counter check.
    JUKI_NET = "juki_net", "住基ネット照会"


class DataKey(models.Model):
    """A data key (DEK), stored only wrapped by the master key ``master_key_id``."""

    key_id = models.CharField("データ鍵ID", max_length=32, unique=True)
    # nonce || AES-256-GCM(master key, DEK); emptied when the key is retired, which destroys the key.
    wrapped_key = models.BinaryField(null=True, editable=False)
    master_key_id = models.CharField("マスター鍵ID", max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=False)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "データ鍵 (data key)"
        constraints = [
            # New numbers are encrypted with one key at a time; rotation switches it in one transaction.
            models.UniqueConstraint(fields=["active"], condition=Q(active=True), name="one_active_data_key")
        ]

    def __str__(self) -> str:
        return self.key_id

    def __repr__(self) -> str:
        state = "active" if self.active else "retired" if self.retired_at else "inactive"
        return f"<DataKey {self.key_id} master={self.master_key_id} {state}>"


class MyNumberRecord(models.Model):
    """A person's My Number, encrypted. Decrypt only with sesshu.addressee.vault.decrypt_number."""

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="mynumber")
    ciphertext = models.BinaryField(editable=False)
    nonce = models.BinaryField(max_length=12, editable=False)
    # The key id travels with every ciphertext, so reads keep working while a rotation is half done.
    data_key = models.ForeignKey(
        DataKey, to_field="key_id", on_delete=models.PROTECT, related_name="records", editable=False
    )
    # HMAC-SHA256 (blind-index key) of the 12 digits, hex: finds a person by number without decrypting.
    blind_index = models.CharField(max_length=64, unique=True, editable=False)
    registered_at = models.DateTimeField("登録日時", default=timezone.now)
    # Empty for numbers the system received itself (住基ネット照会).
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    identity_check = models.CharField("本人確認の方法", max_length=20, choices=IdentityCheck.choices)
    identity_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "個人番号 (My Number, encrypted)"

    # Never the number, not even masked: a repr ends up in logs, tracebacks and debug pages.
    def __str__(self) -> str:
        return f"個人番号 (encrypted) of person #{self.person_id}"

    def __repr__(self) -> str:
        return f"<MyNumberRecord person={self.person_id} key={self.data_key_id}>"


__all__ = ["DataKey", "IdentityCheck", "MyNumberRecord"]


class RequestStatus(models.TextChoices):
    PENDING = "pending", "確認待ち"
    CONFIRMED = "confirmed", "確認済"
    REJECTED = "rejected", "差戻し"


class MyNumberRequest(models.Model):
    """A number entered at the counter, waiting for a second number-use clerk (four-eyes).

    The number waits encrypted, like a stored one: the pending row is no weaker than the vault.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="mynumber_requests")
    ciphertext = models.BinaryField(editable=False)
    nonce = models.BinaryField(max_length=12, editable=False)
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    identity_check = models.CharField("本人確認の方法", max_length=20, choices=IdentityCheck.choices)
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "個人番号の登録申請 (My Number registration request)"

    def __str__(self) -> str:
        return f"MyNumberRequest #{self.pk} ({self.status})"  # never the number

    __repr__ = __str__
