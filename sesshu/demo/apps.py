from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "sesshu.demo"
    label = "demo"
    verbose_name = "デモ (synthetic city and demo accounts)"
