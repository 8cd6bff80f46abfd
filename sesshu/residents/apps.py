from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "sesshu.residents"
    label = "residents"
    verbose_name = "住民基本台帳 (resident register)"
