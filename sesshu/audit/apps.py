from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "sesshu.audit"
    label = "audit"
    verbose_name = "監査ログ (audit log)"
