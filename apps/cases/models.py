"""Cases (办件): the case, its timeline, materials, supplement notices and SLA clock rows."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel


class CaseNumberCounter(TimeStampedModel):
    """The daily sequence behind 办件编号 (DOMAIN.md §1.3): one row per (实施编码, day).

    Allocation is one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (``apps.cases.numbering``):
    the row lock serialises concurrent submissions of the same item on the same day only.
    """

    code = models.CharField(_("实施编码"), max_length=50)
    day = models.DateField(_("日期"))
    last = models.PositiveIntegerField(_("已用序号"), default=0)

    class Meta:
        verbose_name = _("办件编号计数器")
        verbose_name_plural = _("办件编号计数器")
        constraints = [
            models.UniqueConstraint(fields=["code", "day"], name="cases_counter_code_day")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.day:%Y%m%d} #{self.last}"
