"""Per-address login throttling (besides django-axes' per-account lockout).

django-axes locks an account after ``AXES_FAILURE_LIMIT`` failures, which does not stop one
client trying a common password against many accounts (password spraying). Here every failed
login (``user_login_failed``, connected in ``apps.py``) counts against the client's address
(``axes.helpers.get_client_ip_address``, i.e. REMOTE_ADDR unless the proxy settings say
otherwise) in the shared cache; when ``LOGIN_IP_FAILURE_LIMIT`` failures fell in the current
window of ``LOGIN_IP_WINDOW_MINUTES``, ``LoginThrottleMiddleware`` answers further login POSTs
from that address with the Chinese 429 page until the window ends, whichever account they name.

The limit is per address and high by default (a service hall's terminals share one NAT
address). Windows are fixed: at a window boundary up to twice the limit can get through, which
is acceptable for a coarse brake. The cache key holds a keyed hash of the address, not the
address itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from axes.helpers import get_client_ip_address

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.identity.pii import blind_index

# URL names of the password login forms the throttle guards.
THROTTLED_VIEWS = frozenset({"identity:login", "admin:login"})


def _window_seconds() -> int:
    return max(1, settings.LOGIN_IP_WINDOW_MINUTES * 60)


def _key(request: HttpRequest) -> tuple[str, int]:
    """The cache key of the client's current window, and the seconds left in it."""
    window = _window_seconds()
    now = time.time()
    bucket = int(now // window)
    address = get_client_ip_address(request) or "unknown"
    digest = blind_index(address, purpose="login_ip")[:32]
    return f"identity:login-ip:{digest}:{bucket}", int((bucket + 1) * window - now) + 1


def failures(request: HttpRequest) -> int:
    key, _left = _key(request)
    return int(cache.get(key) or 0)


def is_throttled(request: HttpRequest) -> bool:
    limit = settings.LOGIN_IP_FAILURE_LIMIT
    return limit > 0 and failures(request) >= limit


def record_failure(sender: Any, credentials: Any = None, request: Any = None, **kwargs: Any):
    """``user_login_failed`` receiver: count one failure for the request's address."""
    if request is None or settings.LOGIN_IP_FAILURE_LIMIT <= 0:
        return
    key, left = _key(request)
    cache.add(key, 0, timeout=left)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=left)


def throttled_response(request: HttpRequest) -> HttpResponse:
    _key_name, left = _key(request)
    response = render(
        request,
        "identity/login_throttled.html",
        {"window_minutes": settings.LOGIN_IP_WINDOW_MINUTES, "retry_minutes": -(-left // 60)},
        status=429,
    )
    response["Retry-After"] = str(left)
    return response


class LoginThrottleMiddleware:
    """Refuses login POSTs from an address over its failure limit (see the module doc)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if request.method != "POST":
            return None
        match = request.resolver_match
        if match is None or match.view_name not in THROTTLED_VIEWS:
            return None
        if is_throttled(request):
            return throttled_response(request)
        return None
