"""Back-office screens of 好差评 (/office/reviews/…): tickets, appeals, window services and
statistics. Thin: a selector or one service each (STYLE.md V4)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any

import segno

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core import uploads
from apps.core.exceptions import DomainError
from apps.reviews import charts, selectors, services
from apps.reviews.constants import (
    AppealGround,
    Dimension,
    FollowUpChannel,
    FollowUpResult,
    Grade,
    TicketStatus,
)
from apps.reviews.permissions import can_file_appeal, can_work_ticket, is_authority_for


def _staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.visible_department_ids(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


@_staff_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in TicketStatus.values:
        status = ""
    return render(
        request,
        "reviews/office/ticket_list.html",
        {
            "tickets": selectors.list_tickets_for(request.user, status=status)[:200],
            "appeals": selectors.list_pending_appeals_for(request.user)[:100],
            "statuses": TicketStatus.choices,
            "status": status,
        },
    )


@_staff_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = selectors.get_ticket_for(request.user, ticket_id)
    return render(
        request,
        "reviews/office/ticket_detail.html",
        {
            "ticket": ticket,
            "can_work": can_work_ticket(request.user, ticket),
            "can_appeal": can_file_appeal(request.user, ticket),
            "follow_up_channels": FollowUpChannel.choices,
            "follow_up_results": FollowUpResult.choices,
            "appeal_grounds": AppealGround.choices,
            "max_evidence_files": settings.REVIEWS_APPEAL_MAX_FILES,
        },
    )


# Each ticket action: (service, form fields passed as keyword arguments).
_TICKET_ACTIONS: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "follow_up": (services.record_follow_up, ("channel", "result", "note", "recording_url")),
    "start": (services.start_rectification, ("finding",)),
    "rectify": (services.record_rectification, ("measures", "result")),
    "appeal": (services.file_appeal, ("ground", "statement", "evidence")),
}


@_staff_required
@require_POST
def ticket_action(request: HttpRequest, ticket_id: int, action: str) -> HttpResponse:
    selectors.get_ticket_for(request.user, ticket_id)  # 404 outside the user's scope
    if action not in _TICKET_ACTIONS:
        raise Http404
    service, fields = _TICKET_ACTIONS[action]
    extra: dict[str, Any] = {}
    if action == "appeal":
        extra["files"] = request.FILES.getlist("evidence_files")
    try:
        service(
            ticket_id=ticket_id,
            user=request.user,
            **{name: request.POST.get(name, "") for name in fields},
            **extra,
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已保存"))
    return redirect("reviews_office:ticket", ticket_id)


@_staff_required
def appeal_evidence(request: HttpRequest, evidence_id: int) -> FileResponse:
    """An evidence file, for the responsible department and the 管理机构 only."""
    evidence = selectors.get_appeal_evidence_for(request.user, evidence_id)
    response = FileResponse(
        uploads.open_stored(evidence.file.name),
        as_attachment=True,
        filename=evidence.original_name or f"evidence-{evidence.pk}",
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@_staff_required
def appeal_detail(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = (
        selectors.list_pending_appeals_for(request.user)
        .prefetch_related("evidence_files")
        .filter(pk=appeal_id)
        .first()
    )
    if appeal is None:
        raise Http404
    if request.method == "POST":
        try:
            services.decide_appeal(
                appeal_id=appeal.pk,
                user=request.user,
                upheld=request.POST.get("decision") == "upheld",
                note=request.POST.get("note", ""),
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("复核意见已提交"))
            return redirect("reviews_office:tickets")
    return render(
        request,
        "reviews/office/appeal_detail.html",
        {"appeal": appeal, "can_decide": is_authority_for(request.user, appeal.ticket.department)},
    )


@_staff_required
def moderation_queue(request: HttpRequest) -> HttpResponse:
    """Held comments (word list): a 管理机构 member releases each or keeps it hidden."""
    if not selectors.supervised_department_ids(request.user):
        raise Http404
    held = selectors.list_held_ratings_for(request.user)
    if request.method == "POST":
        rating = held.filter(pk=_int(request.POST.get("rating"))).first()
        if rating is None:
            raise Http404
        decision = request.POST.get("decision")
        try:
            if decision not in ("release", "keep"):
                raise DomainError(_("请选择放行或不予公开"), code="invalid_decision")
            services.moderate_comment(
                rating_id=rating.pk, user=request.user, approve=decision == "release"
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("已放行，评价内容将公开") if decision == "release" else _("已设为不予公开"),
            )
        return redirect("reviews_office:moderation")
    return render(request, "reviews/office/moderation.html", {"ratings": held[:100]})


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


@login_required
def window_service_new(request: HttpRequest) -> HttpResponse:
    """The clerk records a finished window service and gets the pad link and the QR."""
    memberships = list(
        request.user.memberships.filter(is_active=True, window__isnull=False).select_related(
            "window__hall", "department"
        )
    )
    if not memberships:
        raise Http404
    service = None
    if request.method == "POST":
        choice = next((m for m in memberships if str(m.pk) == request.POST.get("membership")), None)
        try:
            if choice is None:
                raise DomainError(_("请选择窗口"), code="invalid_window")
            service = services.record_window_service(
                clerk=request.user,
                window_id=choice.window_id,
                department_id=choice.department_id,
                summary=request.POST.get("summary", ""),
                item_name=request.POST.get("item_name", "")[:200],
            )
        except DomainError as error:
            messages.error(request, error.message)
    context: dict[str, Any] = {"memberships": memberships, "service": service}
    if service is not None:
        token = services.pad_token(service)
        pad_url = request.build_absolute_uri(reverse("reviews_office:pad", args=[token]))
        qr_url = request.build_absolute_uri(reverse("reviews:qr_rate", args=[token]))
        context.update(
            pad_url=pad_url,
            qr_url=qr_url,
            # segno writes plain SVG attributes (no style), escaped by construction.
            qr_svg=mark_safe(segno.make(qr_url, error="m").svg_inline(scale=4)),  # noqa: S308
        )
    return render(request, "reviews/office/window_service.html", context)


def _stats_scope(request: HttpRequest) -> tuple[list[int], bool]:
    supervised = selectors.supervised_department_ids(request.user)
    if supervised:
        return supervised, True
    return selectors.ticket_department_ids(request.user), False


def _stats_context(request: HttpRequest) -> dict[str, Any]:
    department_ids, is_authority = _stats_scope(request)
    if not department_ids:
        raise Http404
    try:
        months = min(max(int(request.GET.get("months", 12)), 1), 36)
    except ValueError:
        months = 12
    periods = selectors.last_periods(months)
    allowed = [str(pk) for pk in department_ids]
    key = request.GET.get("department", "")
    if key not in allowed:
        key = "" if is_authority else allowed[0]
    dimension, figure_key = (Dimension.DEPARTMENT, key) if key else (Dimension.TOTAL, "")
    figures = selectors.figures_for(dimension=dimension, key=figure_key, periods=periods)
    monthly = selectors.monthly_figures(dimension=dimension, key=figure_key, periods=periods)
    ranking = selectors.named_ranking(dimension=Dimension.DEPARTMENT, periods=periods, limit=50)
    ranking = [row for row in ranking if row["key"] in allowed]
    return {
        "periods": periods,
        "months": months,
        "figures": figures,
        "monthly": monthly,
        "ranking": ranking,
        "department": key,
        "departments": selectors.department_names(department_ids),
        "is_authority": is_authority,
        "trend_chart": charts.bar_chart(
            [(p, f.ratings) for p, f in monthly], label=_("每月评价数")
        ),
        "grade_chart": charts.distribution_chart(
            [
                (label, n, value)
                for (value, label), n in zip(Grade.choices, figures.grades, strict=True)
            ],
            label=_("评价等级分布"),
        ),
        "ranking_chart": charts.bar_chart(
            [(row["name"], row["figures"].average_score) for row in ranking[:12]],
            label=_("部门平均分排名"),
            maximum=5,
        ),
    }


@login_required
def stats(request: HttpRequest) -> HttpResponse:
    return render(request, "reviews/office/stats.html", _stats_context(request))


@login_required
def stats_csv(request: HttpRequest) -> HttpResponse:
    """The monthly figures and the department ranking as CSV (no personal data at all)."""
    context = _stats_context(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="reviews-stats.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 CSV with a BOM correctly
    writer = csv.writer(response)
    header = [
        _("维度"),
        _("名称"),
        _("服务数"),
        _("主动评价数"),
        _("主动评价率"),
        _("好评率"),
        _("差评率"),
        _("平均分"),
        _("差评数"),
        _("差评整改率"),
        _("按期整改率"),
        _("回访率"),
        _("申诉成立率"),
        _("系统默认评价数"),
    ]
    writer.writerow(header)

    def row(kind: str, name: str, f: selectors.Figures) -> list[Any]:
        return [
            kind,
            name,
            f.services,
            f.ratings,
            f.active_rate,
            f.good_rate,
            f.bad_rate,
            f.average_score,
            f.bad,
            f.rectification_rate,
            f.on_time_rate,
            f.follow_up_rate,
            f.appeal_upheld_rate,
            f.defaults,
        ]

    for period, f in context["monthly"]:
        writer.writerow(row(_("月份"), period, f))
    for entry in context["ranking"]:
        writer.writerow(row(_("部门"), entry["name"], entry["figures"]))
    return response
