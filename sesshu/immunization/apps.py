from django.apps import AppConfig


class ImmunizationConfig(AppConfig):
    name = "sesshu.immunization"
    label = "immunization"
    verbose_name = "予防接種台帳 (immunization register)"
