import re

from django.core.exceptions import ValidationError


class CharacterClassValidator:
    """At least three of: lower case, upper case, digits, symbols (a usual municipal password rule)."""

    def validate(self, password, user=None):
        classes = [r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]"]
        if sum(bool(re.search(c, password)) for c in classes) < 3:
            raise ValidationError(
                "パスワードには英小文字・英大文字・数字・記号のうち3種類以上を含めてください。"
                " (Use at least three of: lower case, upper case, digits, symbols.)",
                code="password_character_classes",
            )

    def get_help_text(self):
        return "英小文字・英大文字・数字・記号のうち3種類以上 (three of: lower, upper, digits, symbols)"
