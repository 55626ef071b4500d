"""The operator's review screens (运营机构): agencies applying to join, projects to publish,
objections to awards to answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.exceptions import DomainError
from apps.marketplace import selectors, services
from apps.marketplace.permissions import is_operator


def _operator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_operator(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """The operator's queue; a 行业主管部门's administrator or supervisor who is not the operator
    is taken to the department's screen instead."""
    if not is_operator(request.user):
        if selectors.supervised_department_ids(request.user):
            return redirect("marketplace_office:department")
        raise Http404
    return render(
        request,
        "marketplace/office/review_queue.html",
        {
            "agencies": selectors.list_pending_agencies(),
            "projects": selectors.list_submitted_projects(),
            "objections": selectors.list_pending_objections(),
            "sanctions": selectors.list_running_sanctions(),
            "now": timezone.now(),
            "supervises": bool(selectors.supervised_department_ids(request.user)),
        },
    )


def _decision(request: HttpRequest) -> tuple[bool, str]:
    return request.POST.get("decision") == "approve", request.POST.get("note", "")


@_operator_required
@require_POST
def agency_review(request: HttpRequest, agency_id: int) -> HttpResponse:
    approve, note = _decision(request)
    try:
        services.review_agency(
            operator=request.user, agency_id=agency_id, approve=approve, note=note
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已审核入驻申请"))
    return redirect("marketplace_office:queue")


@_operator_required
@require_POST
def project_review(request: HttpRequest, project_id: int) -> HttpResponse:
    approve, note = _decision(request)
    try:
        services.review_project(
            operator=request.user, project_id=project_id, approve=approve, note=note
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已审核项目"))
    return redirect("marketplace_office:queue")


@_operator_required
@require_POST
def objection_handle(request: HttpRequest, objection_id: int) -> HttpResponse:
    try:
        services.handle_objection(
            operator=request.user,
            objection_id=objection_id,
            uphold=request.POST.get("decision") == "uphold",
            reply=request.POST.get("reply", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已处理异议"))
    return redirect("marketplace_office:queue")


@_operator_required
@require_POST
def sanction_lift(request: HttpRequest, sanction_id: int) -> HttpResponse:
    try:
        services.lift_sanction(
            user=request.user, sanction_id=sanction_id, reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已解除惩戒"))
    return redirect("marketplace_office:queue")
