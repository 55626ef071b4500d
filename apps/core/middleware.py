"""Request guards shared by every part of the portal."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

API_PREFIX = "/api/"


class QueryGuardMiddleware:
    """Answer 400 for query strings no view could serve (issue 15 §2).

    - A NUL character in any query parameter: PostgreSQL text cannot hold one, so the first
      query using it would fail with a server error deep inside a selector.
    - Under ``/api/``: a parameter given more than once (``?level=null&level=null``). No API
      parameter is a list, and silently taking the last value hides client bugs.
    API answers use the error format of ``apps.core.drf``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = request.path.startswith(API_PREFIX)
        errors: dict[str, list[str]] = {}
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                errors[key.replace("\x00", "")] = [_("参数不能包含空字符")]
            elif is_api and len(values) > 1:
                errors[key] = [_("参数只能出现一次")]
        if not errors:
            return self.get_response(request)
        if not is_api:
            return HttpResponseBadRequest(_("请求参数有误"))
        return JsonResponse(
            {"code": "invalid", "detail": _("请求参数有误"), "errors": errors},
            status=400,
            json_dumps_params={"ensure_ascii": False},
        )
