"""Small helpers for text shown to people in either interface language."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import pgettext


def join_list(items: Iterable[object]) -> str:
    """Join names the way the interface language lists them: "甲、乙、丙" in Chinese,
    "A, B, C" in English (the separator is a translatable string)."""
    return pgettext("list separator", "、").join(str(item) for item in items)
