from django.apps import AppConfig


class AddresseeConfig(AppConfig):
    name = "sesshu.addressee"
    label = "addressee"
    verbose_name = "統合宛名 (integrated addressee)"
