"""Labels for code lists on the guide page (办事指南)."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from apps.catalog.constants import HandlingForm
from apps.catalog.licence_types import licence_type_table
from apps.core.i18n import join_list

register = template.Library()


@register.filter
def licence_type_names(codes: Iterable[str] | str | None) -> str:
    """Names of e-licence types (证照目录) by code; an unknown code is shown as it is."""
    if not codes:
        return ""
    if isinstance(codes, str):
        codes = [codes]
    table = licence_type_table()
    return join_list(table[c].name if c in table else c for c in codes)


@register.filter
def handling_form_labels(codes: Iterable[str] | None) -> str:
    """办理形式 (GB/T 39046 表A.5) labels."""
    labels = []
    for code in codes or []:
        labels.append(str(HandlingForm(code).label) if code in HandlingForm.values else code)
    return join_list(labels)
