from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "sesshu.accounts"
    label = "accounts"
    verbose_name = "職員・権限 (staff and rights)"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401  (login, logout and failed-login audit events)
        from .roles import sync_roles

        post_migrate.connect(lambda **kwargs: sync_roles(), sender=self, weak=False)
