"""The audit log: one append-only, hash-chained event for every access to personal data.

Append-only is kept three ways: the model refuses updates and deletes, the queryset refuses bulk
ones, and on PostgreSQL a trigger refuses UPDATE and DELETE whoever sends them. The hash chain makes
any change that slips past all three visible to `sesshu audit verify`.
"""

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    LOGIN = "login", "ログイン"
    LOGIN_FAILED = "login_failed", "ログイン失敗"
    LOCKED_OUT = "locked_out", "ロックアウト"
    LOGOUT = "logout", "ログアウト"
    VIEW = "view", "閲覧"
    SEARCH = "search", "検索"
    CREATE = "create", "登録"
    CHANGE = "change", "変更"
    DELETE = "delete", "削除"
    EXPORT = "export", "出力"
    DENIED = "denied", "拒否"
    SYSTEM = "system", "システム操作"


class Outcome(models.TextChoices):
    OK = "ok", "成功"
    DENIED = "denied", "拒否"
    FAILED = "failed", "失敗"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only: they cannot be updated.")

    def delete(self):
        raise PermissionError("Audit events are append-only: they cannot be deleted.")


class AuditEvent(models.Model):
    # The id is assigned by the chain (previous id + 1), so a missing event is a visible gap.
    id = models.BigIntegerField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A copy of the user name, so the log still reads right if an account is renamed.
    actor_username = models.CharField(max_length=150, blank=True)
    ip_address = models.CharField(max_length=45, blank=True)
    terminal = models.CharField(max_length=100, blank=True)
    request_id = models.CharField(max_length=36, blank=True)
    route = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OK)
    purpose = models.CharField(max_length=200, blank=True)
    object_type = models.CharField(max_length=50, blank=True)
    # Internal ids (addressee.Person pk) of the persons whose data was touched.
    subjects = models.JSONField(default=list)
    criteria = models.JSONField(default=dict)
    result_count = models.IntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        permissions = [("verify_chain", "監査ログの改ざん検査 (verify the audit chain)")]

    def __str__(self) -> str:
        return f"#{self.id} {self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"

    def save(self, *args, **kwargs):
        if not kwargs.get("force_insert"):
            raise PermissionError("Audit events are written only through sesshu.audit.services.record().")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only: they cannot be deleted.")


class AuditChainHead(models.Model):
    """The single row that serializes writers: the last event's id and hash, locked while appending."""

    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.last_id}"
