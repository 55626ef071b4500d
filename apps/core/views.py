"""Pages and endpoints every part of the portal shares."""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults, i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.core import metrics as core_metrics
from apps.core.context_processors import ELDER_COOKIE
from apps.core.selectors import health_report

ONE_YEAR = 365 * 24 * 3600


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(
        report,
        status=200 if report["status"] == "ok" else 503,
        json_dumps_params={"ensure_ascii": False},
    )


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.headers.get("referer") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


# The two display preferences (elder mode, language) only set a cookie of the visitor's own and
# redirect to a same-site page: a forged request can do no more than switch a display mode, so
# they take no CSRF token. Every page carries their forms; with a token, every anonymous page
# would set a CSRF cookie and send ``Vary: Cookie``, which no cache in front can store
# (issue 15 §1).
@csrf_exempt
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    return i18n.set_language(request)


@csrf_exempt
@require_POST
def elder_mode_toggle(request: HttpRequest) -> HttpResponse:
    """Switch the elder-friendly mode (长辈模式) on or off; remembered in a cookie for a year."""
    response = HttpResponseRedirect(_safe_next(request))
    if request.POST.get("elder") == "1":
        response.set_cookie(ELDER_COOKIE, "1", max_age=ONE_YEAR, samesite="Lax", httponly=True)
    else:
        response.delete_cookie(ELDER_COOKIE, samesite="Lax")
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for a URL nothing matches: an API client gets the API error format, not HTML."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "not_found", "detail": _("未找到。")},
            status=404,
            json_dumps_params={"ensure_ascii": False},
        )
    return defaults.page_not_found(request, exception)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus scrape endpoint: configured addresses or the bearer token only."""
    status = core_metrics.metrics_access(request)
    if status == 404:
        raise Http404
    if status == 403:
        return HttpResponse(status=403)
    return HttpResponse(
        core_metrics.render_metrics(), content_type="text/plain; version=0.0.4; charset=utf-8"
    )
