"""The service code page (一人一码 / 一企一码): a short-lived QR code the person shows at a
window, counting down and refreshing itself before it expires."""

from __future__ import annotations

import segno

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from apps.core.exceptions import DomainError
from apps.identity import selectors, services


def _qr_svg(payload: str) -> str:
    """Inline SVG of the QR (segno, no external request, no JavaScript)."""
    qr = segno.make(payload, error="m")
    return qr.svg_inline(scale=6, border=2, svgclass="service-code__svg", omitsize=True)


# The service-code page refreshes itself this many seconds before the code expires, at most
# SERVICE_CODE_AUTO_REFRESHES times in a row (a forgotten open tab stops issuing codes).
SERVICE_CODE_REFRESH_BEFORE_SECONDS = 10
SERVICE_CODE_AUTO_REFRESHES = 10


@login_required
@require_http_methods(["GET", "POST"])
def service_code(request: HttpRequest) -> HttpResponse:
    """The holder's page: POST shows a fresh code (for themselves or an enterprise they act
    for) as a QR and a typeable form. Nothing cacheable: the code is single-use."""
    enterprises = list(selectors.acting_enterprises(request.user))
    issued = None
    if request.method == "POST":
        enterprise = None
        enterprise_id = request.POST.get("enterprise", "")
        if enterprise_id:
            enterprise = next((e for e in enterprises if str(e.pk) == enterprise_id), None)
            if enterprise is None:
                raise Http404
        try:
            issued = services.issue_service_code(user=request.user, enterprise=enterprise)
        except DomainError as exc:
            messages.error(request, exc.message)
    # The page counts down (static/js/service_code.js) and asks for a fresh code shortly
    # before this one expires, a bounded number of times in a row (``auto`` counts them; a
    # person's own click starts again at 0). Without JavaScript the button refreshes.
    auto = request.POST.get("auto", "")
    auto_refreshes = min(int(auto), SERVICE_CODE_AUTO_REFRESHES) if auto.isdigit() else 0
    seconds_left = (
        max(0, int((issued.expires_at - timezone.now()).total_seconds())) if issued else 0
    )
    context = {
        "enterprises": enterprises,
        "issued": issued,
        "qr_svg": _qr_svg(issued.qr_payload) if issued else "",
        "ttl_seconds": settings.SERVICE_CODE_TTL_SECONDS,
        "seconds_left": seconds_left,
        "refresh_before": SERVICE_CODE_REFRESH_BEFORE_SECONDS,
        "auto_refreshes": auto_refreshes,
        "auto_refresh_limit": SERVICE_CODE_AUTO_REFRESHES,
    }
    response = render(request, "identity/service_code.html", context)
    add_never_cache_headers(response)
    return response
