"""What the demo app stores: the record of the synthetic city's build (the city itself lives in the
residents, addressee and immunization apps' tables, like any real city's data)."""

from django.db import models


class SeedRun(models.Model):
    """One build of the synthetic city: the parameters it was built from and how many rows it wrote.

    A rerun with the same parameters finds this row and does nothing; the counts also tell
    ``sesshu.demo.synthetic.delete_city`` which numbers belong to the city (they run up from fixed bases).
    """

    residents = models.PositiveIntegerField("住民数 (residents)")
    seed = models.BigIntegerField("シード (seed)")
    as_of = models.DateField("基準日 (as of)")
    counts = models.JSONField("件数 (counts)", default=dict)
    created_at = models.DateTimeField("作成日時 (created)", auto_now_add=True)

    class Meta:
        verbose_name = "合成データの作成 (synthetic city seed run)"

    def __str__(self) -> str:
        return f"{self.residents} residents, seed {self.seed}, as of {self.as_of}"
