from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sesshu.core"
    label = "core"
