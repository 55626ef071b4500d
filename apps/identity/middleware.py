"""Staff session timeout: a civil servant's session ends after ``STAFF_SESSION_IDLE_MINUTES``
without a request; citizens keep ``SESSION_COOKIE_AGE``.

At login (``mark_staff_session``, connected to ``user_logged_in`` in ``apps.py``) a staff
account's session is flagged. The middleware then reads only the session (no user query): it
logs an idle staff session out with a message saying why, and refreshes the last-seen time at
most once a minute, so ordinary requests do not rewrite the session. The session row itself
keeps SESSION_COOKIE_AGE as its hard limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import Permission
from django.contrib.auth.views import redirect_to_login
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

STAFF_SESSION_KEY = "_identity_staff"
LAST_SEEN_KEY = "_identity_staff_seen"
# Refresh the last-seen stamp at most this often (seconds): the timeout is exact to a minute.
TOUCH_INTERVAL = 60


def idle_limit_seconds() -> int:
    return settings.STAFF_SESSION_IDLE_MINUTES * 60


def is_staff_account(user: Any) -> bool:
    """An office account: Django staff, an active department membership, or a holder of any
    granted permission (directly or through a group). Office roles outside a department, such
    as the 中介超市 operator (``marketplace.operate_marketplace``), are granted as permissions;
    without this the staff sign-in sent them to their profile instead of the office page."""
    if user.is_staff or user.is_superuser or user.memberships.filter(is_active=True).exists():
        return True
    # One EXISTS over both grant paths (get_all_permissions would read each path in full).
    return Permission.objects.filter(Q(user=user) | Q(group__user=user)).exists()


def mark_staff_session(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: flag a staff session for the idle timeout."""
    if request is None or not hasattr(request, "session"):
        return
    if is_staff_account(user):
        request.session[STAFF_SESSION_KEY] = True
        request.session[LAST_SEEN_KEY] = int(time.time())


class StaffSessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(STAFF_SESSION_KEY):
            now = int(time.time())
            last_seen = int(session.get(LAST_SEEN_KEY, 0))
            if now - last_seen > idle_limit_seconds():
                return self._expire(request)
            if now - last_seen >= TOUCH_INTERVAL:
                session[LAST_SEEN_KEY] = now
        return self.get_response(request)

    def _expire(self, request: HttpRequest) -> HttpResponse:
        logout(request)
        message = _(
            "您已超过%(minutes)d分钟未操作，为保护办件和个人信息安全已自动退出，请重新登录"
        ) % {"minutes": settings.STAFF_SESSION_IDLE_MINUTES}
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "session_expired", "detail": message}, status=401)
        messages.warning(request, message)
        return redirect_to_login(request.get_full_path())
