"""schedule models: what the schedule engine needs stored (長期療養特例). See __init__."""

from django.conf import settings
from django.db import models

from sesshu.addressee.models import Person

__all__ = ["LongTermCareException"]


class LongTermCareException(models.Model):
    """長期療養特例 (予防接種法施行令 第1条の3 第2項): a person who could not be vaccinated within the
    eligible period because of a long illness may be vaccinated for two more years after it ended
    (up to the age limits 施行令 sets). Recorded per person and series; the engine applies it."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="long_term_care_exceptions")
    series = models.CharField("対象の接種（シリーズ）", max_length=20)
    reason = models.CharField("特別の事情（疾病名等）", max_length=200)
    illness_from = models.DateField("特別の事情の開始日")
    illness_until = models.DateField("特別の事情がなくなった日")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField("記録日時", auto_now_add=True)

    class Meta:
        verbose_name = "長期療養特例 (long-term illness exception)"
        indexes = [models.Index(fields=["person"])]

    def __str__(self) -> str:
        return f"{self.person_id} {self.series} {self.illness_from}..{self.illness_until}"
