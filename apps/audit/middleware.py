"""Make the client IP available to ``record_audit_event`` without threading it through."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.audit.services import current_ip


def client_ip(request: HttpRequest) -> str | None:
    # Behind the load balancer the first X-Forwarded-For hop is the client; the proxy must
    # overwrite (not append to) a client-sent header for this to be trustworthy.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[0].strip()[:45] or None
    return request.META.get("REMOTE_ADDR")


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)
