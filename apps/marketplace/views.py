"""Pages of the 中介服务超市 (thin: one selector or service each, STYLE.md V4)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.exceptions import DomainError
from apps.identity.selectors import acting_enterprises
from apps.marketplace import selectors, services
from apps.marketplace.constants import (
    PUBLIC_PROJECT_STATUSES,
    BidMode,
    DrawStatus,
    ProjectStatus,
    SelectionMethod,
)
from apps.marketplace.forms import AgencyRegistrationForm, NonceForm, ProjectForm, RegistrationForm
from apps.marketplace.models import Agency, Draw, Registration
from apps.marketplace.permissions import can_manage_project

PAGE_SIZE = 20


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def project_list(request: HttpRequest) -> HttpResponse:
    """采购公告与中选公告: search and filters, newest first."""
    query = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    method = request.GET.get("method", "")
    service_id = _int(request.GET.get("service"))
    projects = selectors.list_public_projects(
        query=query,
        status=status,
        method=method if method in SelectionMethod.values else "",
        service_id=service_id,
    )
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    statuses = [(s, ProjectStatus(s).label) for s in PUBLIC_PROJECT_STATUSES]
    return render(
        request,
        "marketplace/project_list.html",
        {
            "page": page,
            "query": query,
            "status": status,
            "method": method,
            "service_id": service_id,
            "statuses": statuses,
            "methods": SelectionMethod.choices,
            "services": selectors.list_public_services(),
        },
    )


def service_list(request: HttpRequest) -> HttpResponse:
    """中介服务事项清单 (public)."""
    return render(
        request, "marketplace/service_list.html", {"services": selectors.list_public_services()}
    )


def directory(request: HttpRequest) -> HttpResponse:
    """机构名录: qualifications, credit and sanctions are public."""
    query = request.GET.get("q", "").strip()[:100]
    agencies = selectors.list_directory(query=query, service_id=_int(request.GET.get("service")))
    page = Paginator(agencies, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "marketplace/directory.html", {"page": page, "query": query})


def agency_detail(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = selectors.get_directory_agency(agency_id)
    return render(request, "marketplace/agency_detail.html", {"agency": agency})


def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    project = selectors.get_project_for(request.user, project_id)
    draw = Draw.objects.filter(project=project).first()
    is_owner = can_manage_project(request.user, project)
    agencies = selectors.acting_agencies(request.user) if project.is_open_for_registration else []
    shortlist = []
    if project.status == ProjectStatus.AWAITING_PICK:
        shortlist = list(
            Agency.objects.filter(enterprise__uscc__in=project.shortlist).select_related(
                "enterprise"
            )
        )
    bids = (
        selectors.visible_bids(request.user, project)
        if project.method == SelectionMethod.BIDDING
        else []
    )
    contract = selectors.get_contract_for_project(project)
    proposals = selectors.visible_proposals(request.user, project)
    bidding_agencies = (
        [a for a in selectors.acting_agencies(request.user) if a.pk in project.registered_ids]
        if project.method == SelectionMethod.BIDDING and project.status == ProjectStatus.SELECTING
        else []
    )
    context = {
        "bidding_agencies": bidding_agencies,
        "project": project,
        "contract": contract,
        "is_contract_agency": bool(
            contract
            and any(a.pk == contract.agency_id for a in selectors.acting_agencies(request.user))
        ),
        "draw": draw,
        "is_owner": is_owner,
        "registration_form": RegistrationForm(agencies=agencies) if agencies else None,
        "nonce_form": NonceForm()
        if is_owner and draw and draw.status != DrawStatus.DRAWN
        else None,
        "shortlist": shortlist,
        "bids": bids,
        "in_award_publicity": bool(
            project.status == ProjectStatus.AWARDED
            and project.award_publicity_ends_at
            and timezone.now() < project.award_publicity_ends_at
        ),
        "objection_agencies": selectors.objection_agencies(request.user, project),
        "bidding": selectors.bidding_state(project),
        "proposals": proposals,
        "rubric": sorted(project.rubric.items()),
        "can_score": is_owner
        and project.method == SelectionMethod.PROPOSAL
        and project.status == ProjectStatus.SELECTING,
        "objections": selectors.visible_objections(request.user, project),
        # The registrant count is public only once the list is frozen at the close.
        "show_registrants": draw is not None and draw.status != DrawStatus.COMMITTED,
    }
    return render(request, "marketplace/project_detail.html", context)


@login_required
@require_POST
def project_register(request: HttpRequest, project_id: int) -> HttpResponse:
    form = RegistrationForm(request.POST, agencies=selectors.acting_agencies(request.user))
    if not form.is_valid():
        messages.error(request, _("请选择报名机构并正确填写报价"))
        return redirect("marketplace:project", project_id)
    try:
        services.register_for_project(
            user=request.user,
            project_id=project_id,
            agency_id=form.cleaned_data["agency"],
            quoted_price=form.cleaned_data["quoted_price"],
            proposal=form.cleaned_data["proposal"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("报名成功"))
    return redirect("marketplace:project", project_id)


@login_required
@require_POST
def project_nonce(request: HttpRequest, project_id: int) -> HttpResponse:
    form = NonceForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(_("随机数须为1至64个可打印字符"))
        services.set_owner_nonce(
            user=request.user, project_id=project_id, nonce=form.cleaned_data["nonce"]
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("业主随机数已保存，将在摇号后公布"))
    return redirect("marketplace:project", project_id)


@login_required
@require_POST
def project_pick(request: HttpRequest, project_id: int) -> HttpResponse:
    try:
        services.pick_from_shortlist(
            user=request.user,
            project_id=project_id,
            agency_id=_int(request.POST.get("agency")) or 0,
        )
    except (DomainError, Agency.DoesNotExist) as error:
        messages.error(request, getattr(error, "message", _("请从小名单中选择")))
    else:
        messages.success(request, _("已确定中选机构"))
    return redirect("marketplace:project", project_id)


@login_required
@require_POST
def project_bid(request: HttpRequest, project_id: int) -> HttpResponse:
    """竞价: the server's clock decides which round the bid falls in, or refuses it."""
    try:
        price = Decimal(request.POST.get("price", ""))
    except InvalidOperation:
        messages.error(request, _("请填写有效的报价"))
        return redirect("marketplace:project", project_id)
    try:
        bid = services.place_bid(
            user=request.user,
            project_id=project_id,
            agency_id=_int(request.POST.get("agency")) or 0,
            price=price,
        )
    except (DomainError, Agency.DoesNotExist) as error:
        messages.error(request, getattr(error, "message", _("请选择出价机构")))
    else:
        messages.success(
            request,
            _("第%(round)s轮出价已提交（密封，本轮结束后公开）") % {"round": bid.round_number},
        )
    return redirect("marketplace:project", project_id)


@login_required
@require_POST
def project_objection(request: HttpRequest, project_id: int) -> HttpResponse:
    """异议 to the award, during its 公示 period."""
    try:
        services.raise_objection(
            user=request.user,
            project_id=project_id,
            agency_id=_int(request.POST.get("agency")) or 0,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("异议已提交，运营机构将在答复期限内处理"))
    return redirect("marketplace:project", project_id)


@login_required
@require_POST
def project_score(request: HttpRequest, project_id: int) -> HttpResponse:
    """方案择优: the owner scores one proposal on every rubric criterion (``c0``, ``c1``, … in
    the rubric's sorted order), or, with ``action=select``, awards the highest total."""
    try:
        if request.POST.get("action") == "select":
            services.select_by_rubric(user=request.user, project_id=project_id)
            done = _("已按综合得分确定中选机构")
        else:
            project = selectors.get_project_for(request.user, project_id)
            criteria = sorted(project.rubric)
            scores = {}
            for index, criterion in enumerate(criteria):
                value = _int(request.POST.get(f"c{index}"))
                if value is None:
                    raise DomainError(_("请对每一项评分细则打分"))
                scores[criterion] = value
            services.score_registration(
                user=request.user,
                project_id=project_id,
                registration_id=_int(request.POST.get("registration")) or 0,
                scores=scores,
            )
            done = _("评分已保存")
    except DomainError as error:
        messages.error(request, error.message)
    except Registration.DoesNotExist:
        messages.error(request, _("该报名不存在"))
    else:
        messages.success(request, done)
    return redirect("marketplace:project", project_id)


def draw_detail(request: HttpRequest, draw_id: int) -> HttpResponse:
    """The draw's published inputs and result, and how to recompute it."""
    draw = selectors.get_public_draw(draw_id)
    document = selectors.draw_document(draw)
    return render(
        request,
        "marketplace/draw_detail.html",
        {
            "draw": draw,
            "document": document,
            "document_json": json.dumps(document, ensure_ascii=False, indent=2),
        },
    )


def draw_json(request: HttpRequest, draw_id: int) -> JsonResponse:
    draw = selectors.get_public_draw(draw_id)
    return JsonResponse(selectors.draw_document(draw), json_dumps_params={"ensure_ascii": False})


@login_required
def agency_join(request: HttpRequest) -> HttpResponse:
    """入驻申请: register the enterprise as an agency with one service and its certificate."""
    enterprises = list(acting_enterprises(request.user))
    form = AgencyRegistrationForm(
        request.POST or None, request.FILES or None, enterprises=enterprises
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        enterprise = next(e for e in enterprises if e.pk == data["enterprise"])
        try:
            agency = Agency.objects.filter(enterprise=enterprise).first()
            if agency is None or agency.status == "rejected":
                agency = services.register_agency(
                    user=request.user,
                    enterprise=enterprise,
                    contact_phone=data["contact_phone"],
                    introduction=data["introduction"],
                    commitment_signed=data["commitment"],
                )
            services.declare_agency_service(
                user=request.user,
                agency_id=agency.pk,
                service=data["service"],
                qualifications=[
                    {
                        "code": data["qualification_code"],
                        "name": data["qualification_name"],
                        "grade": data["grade"],
                        "number": data["number"],
                        "issuer": data["issuer"],
                        "valid_from": data["valid_from"],
                        "valid_until": data["valid_until"],
                        "certificate": data["certificate"],
                    }
                ],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("入驻申请已提交，运营机构审核通过后将进行公示"))
            return redirect("marketplace:directory")
    return render(
        request, "marketplace/agency_join.html", {"form": form, "has_enterprise": bool(enterprises)}
    )


@login_required
def project_new(request: HttpRequest) -> HttpResponse:
    """The owner's project form: as a person, or for an enterprise the user may act for (its
    legal representative, licence administrator or authorised agent, at L3; the service
    checks)."""
    enterprises = list(acting_enterprises(request.user))
    form = ProjectForm(request.POST or None, enterprises=enterprises)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        enterprise = next((e for e in enterprises if e.pk == data["owner"]), None)
        requirements = []
        if data["requirement_code"]:
            requirements.append(
                {
                    "code": data["requirement_code"],
                    "name": data["requirement_code"],
                    "min_grade": data["requirement_grade"] or 0,
                }
            )
        try:
            project = services.submit_project(
                user=request.user,
                enterprise=enterprise,
                service=data["service"],
                name=data["name"],
                scope=data["scope"],
                requirements=requirements,
                budget=data["budget"],
                time_limit_days=data["time_limit_days"],
                method=data["method"],
                registration_closes_at=data["registration_closes_at"],
                selection_at=data["selection_at"],
                is_fiscal_funded=data["is_fiscal_funded"],
                contact=data["contact"],
                direct_reason=data["direct_reason"],
                big_list_size=data["big_list_size"] or 0,
                small_list_size=data["small_list_size"] or 0,
                bid_rounds=data["bid_rounds"] or 0,
                bid_round_minutes=data["bid_round_minutes"] or 0,
                rubric=data["rubric"],
                bid_mode=data["bid_mode"] or BidMode.SEALED,
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("项目已提交，运营机构审核后发布"))
            return redirect("marketplace:project", project.pk)
    return render(request, "marketplace/project_form.html", {"form": form})


CONTRACT_ACTIONS = {
    "confirm": (services.confirm_contract, _("已确认合同")),
    "complete": (services.confirm_completion, _("已确认服务完成")),
}


@login_required
@require_POST
def contract_action(request: HttpRequest, project_id: int) -> HttpResponse:
    """Both sides confirm the contract and the completion; the agency may refuse; the owner
    (or the 行业主管部门) evaluates."""
    project = selectors.get_project_for(request.user, project_id)
    contract = selectors.get_contract_for_project(project)
    action = request.POST.get("action", "")
    try:
        if contract is None:
            raise DomainError(_("该项目没有合同"))
        if action in CONTRACT_ACTIONS:
            service, done = CONTRACT_ACTIONS[action]
            service(user=request.user, contract_id=contract.pk)
        elif action == "refuse":
            services.refuse_contract(
                user=request.user, contract_id=contract.pk, reason=request.POST.get("reason", "")
            )
            done = _("已记录拒签")
        elif action == "upload":
            services.upload_contract(
                user=request.user,
                contract_id=contract.pk,
                document=request.FILES.get("document"),
            )
            done = _("合同文本已上传，待对方在线确认")
        elif action == "milestone_add":
            try:
                due_on = date.fromisoformat(request.POST.get("due_on", ""))
            except ValueError as exc:
                raise DomainError(_("请填写有效的计划完成日期")) from exc
            services.add_milestone(
                user=request.user,
                contract_id=contract.pk,
                title=request.POST.get("title", ""),
                due_on=due_on,
            )
            done = _("履约节点已添加")
        elif action in ("milestone_report", "milestone_confirm"):
            service = (
                services.report_milestone
                if action == "milestone_report"
                else services.confirm_milestone
            )
            milestone_id = _int(request.POST.get("milestone")) or 0
            if not contract.milestones.filter(pk=milestone_id).exists():
                raise DomainError(_("履约节点不存在"))
            service(user=request.user, milestone_id=milestone_id)
            done = _("已更新履约节点")
        elif action == "evaluate":
            services.evaluate_agency(
                user=request.user,
                contract_id=contract.pk,
                score=_int(request.POST.get("score")) or 0,
                comment=request.POST.get("comment", ""),
            )
            done = _("评价已提交")
        else:
            raise DomainError(_("未知操作"))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("marketplace:project", project_id)


def blacklist(request: HttpRequest) -> HttpResponse:
    """黑名单 (public)."""
    return render(request, "marketplace/blacklist.html", {"sanctions": selectors.list_blacklist()})
