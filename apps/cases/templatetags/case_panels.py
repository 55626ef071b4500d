"""``{% case_panels case %}``: the blocks other apps register for the case page
(``apps.cases.hooks.register_case_panel``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from apps.cases.hooks import render_case_panels
from apps.cases.list_rows import SlaBadges
from apps.core import uploads
from apps.core.i18n import join_list

register = template.Library()


@register.simple_tag(takes_context=True)
def case_panels(context: Any, case: Any) -> SafeString:
    # Each panel returns HTML rendered by its own template (autoescaped there).
    return mark_safe("".join(render_case_panels(context["request"], case)))  # noqa: S308


@register.simple_tag
def sla_badge(sla: Any) -> str:
    """``{% sla_badge sla %}``: the case's time-limit badge, as in the case lists."""
    return SlaBadges()(sla)


@register.filter
def file_type_label(content_type: str) -> str:
    """``{{ material.content_type|file_type_label }}``: "PDF 文档", not ``application/pdf``."""
    return uploads.type_label(content_type or "")


@register.filter
def list_join(items: Any) -> str:
    """``{{ names|list_join }}``: joined with the interface language's list separator."""
    return join_list(items or ())
