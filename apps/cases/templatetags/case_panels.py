"""``{% case_panels case %}``: the blocks other apps register for the case page
(``apps.cases.hooks.register_case_panel``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from apps.cases.hooks import render_case_panels

register = template.Library()


@register.simple_tag(takes_context=True)
def case_panels(context: Any, case: Any) -> SafeString:
    # Each panel returns HTML rendered by its own template (autoescaped there).
    return mark_safe("".join(render_case_panels(context["request"], case)))  # noqa: S308
