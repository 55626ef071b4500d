"""The 行业主管部门's screens (/office/marketplace/department/): its 中介服务事项清单, its own
evaluation of completed services, and the sanctions on agencies of its industry. Each form
posts to one service call; the services check the department role again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.exceptions import DomainError
from apps.core.models import Department
from apps.marketplace import selectors, services
from apps.marketplace.constants import SanctionKind
from apps.marketplace.models import QualificationGrade

HOME = "marketplace_office:department"


def _department_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.department_ids = selectors.supervised_department_ids(request.user)
        if not request.department_ids:
            raise Http404
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


def _done(request: HttpRequest, action: Callable[[], Any], success: str) -> HttpResponse:
    try:
        action()
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect(HOME)


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


@_department_required
def department_home(request: HttpRequest) -> HttpResponse:
    context = selectors.department_overview(request.department_ids)
    context.update(
        departments=Department.objects.filter(pk__in=request.department_ids).order_by("name"),
        sanction_kinds=SanctionKind.choices,
        grades=QualificationGrade.choices,
    )
    return render(request, "marketplace/office/department.html", context)


def parse_requirements(text: str) -> list[dict[str, Any]]:
    """One requirement a line: ``编码:名称:等级`` (等级 0–3, 0 = 不分等级)."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("：", ":").split(":")]
        if len(parts) != 3 or not parts[2].isdigit():
            raise DomainError(_("资质要求每行格式为“编码:名称:等级”，等级为0至3"))
        rows.append({"code": parts[0], "name": parts[1], "min_grade": int(parts[2])})
    return rows


@_department_required
@require_POST
def service_save(request: HttpRequest) -> HttpResponse:
    department_id = _int(request.POST.get("department"))

    def save() -> None:
        if department_id not in request.department_ids:
            raise DomainError(_("只有行业主管部门可以维护中介服务事项清单"))
        if not request.POST.get("code", "").strip():
            raise DomainError(_("请填写事项编码"))
        services.save_intermediary_service(
            user=request.user,
            department=Department.objects.get(pk=department_id),
            code=request.POST.get("code", "").strip()[:32],
            name=request.POST.get("name", ""),
            legal_basis=request.POST.get("legal_basis", ""),
            required_qualifications=parse_requirements(request.POST.get("requirements", "")),
        )

    return _done(request, save, _("中介服务事项已保存"))


@_department_required
@require_POST
def contract_evaluate(request: HttpRequest, contract_id: int) -> HttpResponse:
    return _done(
        request,
        lambda: services.evaluate_agency(
            user=request.user,
            contract_id=contract_id,
            score=_int(request.POST.get("score")),
            comment=request.POST.get("comment", ""),
        ),
        _("评价已提交"),
    )


@_department_required
@require_POST
def agency_sanction(request: HttpRequest, agency_id: int) -> HttpResponse:
    def impose() -> None:
        raw = request.POST.get("ends_on", "")
        try:
            ends_on = date.fromisoformat(raw) if raw else None
        except ValueError as exc:
            raise DomainError(_("请填写有效的结束日期")) from exc
        services.impose_sanction(
            user=request.user,
            agency_id=agency_id,
            kind=request.POST.get("kind", ""),
            reason=request.POST.get("reason", ""),
            ends_on=ends_on,
        )

    return _done(request, impose, _("惩戒已作出并公开"))


@_department_required
@require_POST
def sanction_lift(request: HttpRequest, sanction_id: int) -> HttpResponse:
    return _done(
        request,
        lambda: services.lift_sanction(
            user=request.user, sanction_id=sanction_id, reason=request.POST.get("reason", "")
        ),
        _("已解除惩戒"),
    )
