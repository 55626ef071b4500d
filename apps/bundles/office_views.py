"""Comprehensive-window (综合窗口) screens: the bundle queue and 一窗受理 of a bundle."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.bundles import selectors, services
from apps.bundles.constants import ChildState
from apps.bundles.services import effective_state
from apps.core.exceptions import DomainError


def _window_clerk(request: HttpRequest) -> None:
    if not selectors.clerk_department_ids(request.user):
        raise PermissionDenied


@login_required
def bundle_queue(request: HttpRequest) -> HttpResponse:
    _window_clerk(request)
    rows = [
        (a, selectors.deadline_colour(a))
        for a in selectors.list_bundle_queue_for_clerk(request.user)
    ]
    return render(request, "bundles/office/queue.html", {"office_section": "bundles", "rows": rows})


@login_required
def bundle_screen(request: HttpRequest, application_id: int) -> HttpResponse:
    _window_clerk(request)
    application = selectors.get_application_for_clerk(request.user, application_id)
    if application is None:
        raise Http404
    rows = [
        (child, ChildState(effective_state(child)).label) for child in application.children.all()
    ]
    return render(
        request,
        "bundles/office/application.html",
        {
            "office_section": "bundles",
            "application": application,
            "rows": rows,
            "colour": selectors.deadline_colour(application),
        },
    )


@login_required
@require_POST
def bundle_accept(request: HttpRequest, application_id: int) -> HttpResponse:
    _window_clerk(request)
    application = selectors.get_application_for_clerk(request.user, application_id)
    if application is None:
        raise Http404
    try:
        result = services.accept_bundle_application(
            application_id=application.pk, clerk=request.user
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已受理：%(accepted)s 个事项已为各自部门受理，%(left)s 个事项由其部门受理。")
            % result,
        )
    return redirect("office-bundles:application", application.pk)


@login_required
@require_POST
def bundle_deliver(request: HttpRequest, application_id: int) -> HttpResponse:
    """统一出件 at the window: every child's result handed over at once."""
    _window_clerk(request)
    application = selectors.get_application_for_clerk(request.user, application_id)
    if application is None:
        raise Http404
    try:
        result = services.deliver_bundle_results(application_id=application.pk, clerk=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if result["left"]:
            messages.warning(
                request,
                _("已送达 %(delivered)s 项结果；%(left)s 项尚待其部门办结或送达。") % result,
            )
        else:
            messages.success(request, _("已统一出件：%(delivered)s 项结果一并送达。") % result)
    return redirect("office-bundles:application", application.pk)
