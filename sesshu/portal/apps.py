from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "sesshu.portal"
    label = "portal"
    verbose_name = "ポータル (home)"
