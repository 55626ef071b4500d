"""Helpers shared by the citizen and office pages (thin: no business rules here)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from apps.core.exceptions import DomainError


def run_service(
    request: HttpRequest,
    call: Callable[[], Any],
    *,
    success: str,
    back: str,
    labels: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """Call a service; show its Chinese refusal or validation messages; redirect to ``back``.

    ``labels`` maps form field names to the labels the person sees, so a validation message
    names the field as the form does ("手机号码：…"), never by its internal name."""
    try:
        call()
    except DomainError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                for error in errors:
                    label = (labels or {}).get(field, field)
                    messages.error(request, f"{label}：{error}" if field != "__all__" else error)
        else:
            for error in exc.messages:
                messages.error(request, error)
    else:
        messages.success(request, success)
    return HttpResponseRedirect(back)


def posted_form_data(request: HttpRequest, field_names: list[str]) -> dict[str, Any]:
    """The schema fields of a posted application form, as typed (drafts are not validated)."""
    data: dict[str, Any] = {}
    for name in field_names:
        values = request.POST.getlist(name)
        if not values:
            continue
        data[name] = values if len(values) > 1 else values[0]
    return data


def page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return max(1, min(int(raw), 10_000)) if raw.isdigit() else 1
