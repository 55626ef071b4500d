"""Request guards shared by every part of the portal."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.sessions.middleware import SessionMiddleware
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


class SessionMiddlewareWithoutAnonymousVary(SessionMiddleware):
    """Django's session middleware, minus ``Vary: Cookie`` on the pages of visitors who have
    no session.

    Every page asks whether somebody is signed in, which marks the session as accessed, and
    Django then adds ``Vary: Cookie`` — to every anonymous page too, where it defeats every
    cache in front of the portal (issue 15 §1). A request that carries no cookie at all and
    leaves the session empty got the page everyone without cookies gets; that page does not
    vary on cookies, so it says nothing about them. A cache in front must still pass through
    requests that carry a cookie (the default of Varnish and of most CDNs), since a session,
    language or display-mode cookie changes the page.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = request.session
        if not request.COOKIES and not session.modified and session.is_empty():
            session.accessed = False
        return super().process_response(request, response)
