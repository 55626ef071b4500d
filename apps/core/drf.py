"""DRF wiring shared by every app: one error format, pagination (STYLE.md C5 V5).

Kept apart from ``apps.core.api`` (the core endpoints) because DRF imports these classes from
settings while ``rest_framework.generics`` is still loading.

Every error response has the shape::

    {"code": "invalid", "detail": "请求参数有误", "errors": {"field": ["..."]}}

``errors`` is present only for field-level validation errors.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.exceptions import DomainError


def _checked_page_size(paginator: Any, request: Any) -> None:
    """A ``page_size`` that is given must be a positive integer (DRF silently ignores a bad
    one); values above the maximum are capped, as documented."""
    raw = request.query_params.get(paginator.page_size_query_param)
    if raw is not None and not (raw.isascii() and raw.isdigit() and int(raw) > 0):
        raise exceptions.ValidationError({paginator.page_size_query_param: [_("请输入正整数")]})


class DefaultCursorPagination(CursorPagination):
    """Stable, index-friendly paging for large lists (no COUNT(*), no deep OFFSET)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-created_at"

    def get_page_size(self, request: Any) -> int | None:
        _checked_page_size(self, request)
        return super().get_page_size(request)

    def decode_cursor(self, request: Any) -> Any:
        # DRF answers a malformed cursor with 404; it is a bad query parameter (issue 15 §2).
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError({self.cursor_query_param: [str(exc.detail)]}) from exc


class ValidatedPageNumberPagination(PageNumberPagination):
    """Page-number paging whose bad ``page`` (not a number, or past the end) answers 400 in the
    API error format instead of DRF's 404 (issue 15 §2)."""

    def get_page_size(self, request: Any) -> int | None:
        _checked_page_size(self, request)
        return super().get_page_size(request)

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError({self.page_query_param: [str(exc.detail)]}) from exc


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        # A DomainError subclass may carry its own status (e.g. 409 for a state conflict).
        return Response(
            {"code": exc.code, "detail": exc.message},
            status=getattr(exc, "status_code", status.HTTP_400_BAD_REQUEST),
        )
    if isinstance(exc, DjangoValidationError):
        errors = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        errors = _flatten(detail if isinstance(detail, dict) else {"non_field_errors": detail})
        response.data = {"code": "invalid", "detail": _("请求参数有误"), "errors": errors}
    else:
        codes = exc.get_codes()
        response.data = {
            "code": codes if isinstance(codes, str) else "error",
            "detail": _flatten(exc.detail) if not isinstance(exc.detail, dict) else _("请求有误"),
        }
    return response
