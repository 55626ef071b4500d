"""Back office (/office/): 一窗受理 intake, the hall queue, the case screen and its actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.cases import list_rows, personal, selectors, services
from apps.cases.constants import (
    ApplicantKind,
    CaseAction,
    CaseStatus,
    Channel,
    DayUnit,
    Decision,
    MaterialStatus,
    PauseKind,
    SlaLevel,
    allowed_actions,
)
from apps.cases.permissions import CLERK_ROLES, CaseActor, actor_kinds
from apps.cases.views.common import page_number, posted_form_data, run_service
from apps.cases.views.portal import render_notice
from apps.core.exceptions import DomainError

PAGE_SIZE = 50
OFFICE_LOGIN_URL = "office-identity:login"
INTAKE_SESSION_KEY = "cases_intake_applicant"


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged in (else the staff sign-in), with an active staff membership (any department,
    any role)."""

    @login_required(login_url=OFFICE_LOGIN_URL)
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        memberships = selectors.staff_memberships(request.user)
        if not memberships:
            raise PermissionDenied
        request.staff_memberships = memberships  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


@staff_required
def case_queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    sla_level = request.GET.get("sla", "")
    channel = request.GET.get("channel", "")
    filters = selectors.QueueFilters(
        channel=channel if channel in Channel.values else "",
        status=status if status in CaseStatus.values or status in selectors.QUEUE_GROUPS else "",
        item_code=request.GET.get("item", "").strip()[:50],
        sla=sla_level if sla_level in SlaLevel.values else "",
        number=request.GET.get("number", "").strip()[:50],
        scope="all" if request.GET.get("scope") == "all" else "",
    )
    page = page_number(request)
    rows = selectors.case_rows(
        selectors.list_queue_for_clerk(
            request.user, filters, getattr(request, "staff_memberships", None)
        )[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
    )
    labels = list_rows.queue_labels()
    return render(
        request,
        "cases/office/queue.html",
        {
            "office_section": "cases",
            "rows": bool(rows),
            "labels": labels,
            "rows_html": list_rows.queue_rows(rows[:PAGE_SIZE], labels),
            "filters": filters,
            "groups": [
                (selectors.QUEUE_PENDING, _("待受理（收件后未受理）")),
                (selectors.QUEUE_LIVE, _("全部在办")),
            ],
            "statuses": [(s, CaseStatus(s).label) for s in selectors.QUEUE_STATES],
            "group": filters.group,
            "sla_levels": SlaLevel.choices,
            "channels": Channel.choices,
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
        },
    )


@staff_required
def case_screen(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.get_case_for_staff(user=request.user, case_id=case_id)
    kinds = actor_kinds(CaseActor.of(request.user), case)
    actions = [a for k in sorted(kinds) for a in allowed_actions(case.status, k)]
    actions = list(dict.fromkeys(a for a in CaseAction.values if a in actions))
    slots = list(case.item_version.materials.all().order_by("order", "pk"))
    current: dict[str, list] = {}
    for material in selectors.current_materials(case):
        current.setdefault(material.slot_key, []).append(material)
    return render(
        request,
        "cases/office/case.html",
        {
            "office_section": "cases",
            "case": case,
            "events": selectors.case_timeline(case, public_only=False),
            "slots": [(slot, current.get(slot.key, [])) for slot in slots],
            "actions": actions,
            "notices": list(case.supplement_notices.order_by("sequence")),
            "pauses": list(case.pauses.all()),
            "tolerances": list(case.tolerances.all()),
            "warnings": list(case.warnings.all()),
            "sla": selectors.sla_figures(case),
            "pause_kinds": PauseKind.choices,
            "decisions": Decision.choices,
            "day_units": DayUnit.choices,
            "can_check_materials": bool(kinds) and not case.is_terminal,
            "form_rows": personal.form_rows(case),
        },
    )


def _items(request: HttpRequest) -> list[dict[str, str]]:
    keys = request.POST.getlist("items")
    return [{"key": key, "reason": request.POST.get(f"reason_{key}", "")} for key in keys]


def _tolerances(request: HttpRequest) -> list[dict[str, str]]:
    commitment = request.POST.get("commitment", "")
    return [{"key": key, "commitment": commitment} for key in request.POST.getlist("tolerate")]


def _int(value: str, default: int = 0) -> int:
    return int(value) if value.isdigit() else default


@staff_required
@require_POST
def case_action(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    case = selectors.get_case_for_staff(user=request.user, case_id=case_id)
    actor = CaseActor.of(request.user)
    post = request.POST
    calls: dict[str, Callable[[], Any]] = {
        CaseAction.PRECHECK: lambda: services.precheck_case(
            case_id=case.pk, actor=actor, note=post.get("note", "")
        ),
        CaseAction.REQUEST_SUPPLEMENT: lambda: services.request_supplement(
            case_id=case.pk,
            actor=actor,
            items=_items(request),
            due_days=_int(post.get("due_days", ""), 0),
            due_unit=post.get("due_unit", DayUnit.WORKING),
            note=post.get("note", ""),
        ),
        CaseAction.ACCEPT: lambda: services.accept_case(
            case_id=case.pk, actor=actor, tolerances=_tolerances(request), note=post.get("note", "")
        ),
        CaseAction.ACCEPT_INSTANT: lambda: services.accept_instant_case(
            case_id=case.pk, actor=actor
        ),
        CaseAction.REJECT: lambda: services.reject_case(
            case_id=case.pk,
            actor=actor,
            reason=post.get("reason", ""),
            legal_basis=post.get("legal_basis", ""),
            redirect_to=post.get("redirect_to", ""),
        ),
        CaseAction.START_REVIEW: lambda: services.start_review(
            case_id=case.pk, actor=actor, note=post.get("note", "")
        ),
        CaseAction.SUSPEND: lambda: services.suspend_case(
            case_id=case.pk, actor=actor, kind=post.get("kind", ""), reason=post.get("reason", "")
        ),
        CaseAction.RESUME: lambda: services.resume_case(
            case_id=case.pk, actor=actor, result=post.get("result", "")
        ),
        CaseAction.EXTEND: lambda: services.extend_case(
            case_id=case.pk,
            actor=actor,
            days=_int(post.get("days", ""), 0),
            reason=post.get("reason", ""),
        ),
        CaseAction.DECIDE: lambda: services.decide_case(
            case_id=case.pk,
            actor=actor,
            decision=post.get("decision", ""),
            reason=post.get("reason", ""),
        ),
        CaseAction.COMPLETE: lambda: services.complete_case(case_id=case.pk, actor=actor),
        CaseAction.DELIVER: lambda: services.deliver_case(
            case_id=case.pk, actor=actor, method=post.get("method", "window")
        ),
    }
    if action not in calls:
        raise Http404
    return run_service(
        request,
        calls[action],
        success=_("已办理：%(action)s") % {"action": CaseAction(action).label},
        back=reverse("office-cases:case", args=[case.pk]),
    )


@staff_required
@require_POST
def material_check(request: HttpRequest, case_id: int, material_id: int) -> HttpResponse:
    case = selectors.get_case_for_staff(user=request.user, case_id=case_id)
    status = request.POST.get("status", "")
    return run_service(
        request,
        lambda: services.mark_material(
            material_id=material_id,
            actor=CaseActor.of(request.user),
            status=status,
            reason=request.POST.get("reason", ""),
        ),
        success=_("材料核验结果已记录")
        if status in (MaterialStatus.ACCEPTED, MaterialStatus.DEFECTIVE)
        else "",
        back=reverse("office-cases:case", args=[case.pk]),
    )


@staff_required
def case_notice(request: HttpRequest, case_id: int, kind: str) -> HttpResponse:
    case = selectors.get_case_for_staff(user=request.user, case_id=case_id)
    return render_notice(request, case, kind)


# --- 一窗受理 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeApplicant:
    """Who the clerk is serving, as kept in the session between the intake steps."""

    user: Any | None
    walk_in_person: Any | None
    enterprise: Any | None
    capacity: str

    @property
    def masked_name(self) -> str:
        person = self.user if self.user is not None else self.walk_in_person
        return person.masked_name

    @property
    def kind(self) -> str:
        if self.enterprise is None:
            return ApplicantKind.PERSON
        if self.capacity in ("agent", "paper_agent"):
            return ApplicantKind.AGENT
        return ApplicantKind.ENTERPRISE


IDENTIFY_FIELDS = ("id_number", "name", "phone", "uscc", "paper_authorisation")


def _identify(request: HttpRequest) -> dict[str, Any]:
    """Resolve the applicant from a service code, or from the ID card in the clerk's hand
    (name + number against the population registry; no account needed)."""
    from apps.identity.services import identify_at_window, redeem_service_code

    code = request.POST.get("service_code", "").strip()
    if code:
        holder = redeem_service_code(code, clerk=request.user)
        return {
            "user": holder.user.pk,
            "walk_in": None,
            "enterprise": getattr(holder.enterprise, "pk", None),
            "capacity": holder.capacity,
        }
    id_number = request.POST.get("id_number", "").strip()
    name = request.POST.get("name", "").strip()
    if not id_number or not name:
        raise DomainError(_("请扫描服务码，或输入身份证号码和姓名"), code="identify_required")
    found = identify_at_window(
        clerk=request.user,
        name=name,
        id_number=id_number,
        phone=request.POST.get("phone", ""),
        uscc=request.POST.get("uscc", ""),
        paper_authorisation=bool(request.POST.get("paper_authorisation")),
    )
    return {
        "user": getattr(found.user, "pk", None),
        "walk_in": getattr(found.walk_in_person, "pk", None),
        "enterprise": getattr(found.enterprise, "pk", None),
        "capacity": found.capacity,
    }


def _intake_applicant(request: HttpRequest) -> IntakeApplicant | None:
    from apps.identity.models import Enterprise, User, WalkInPerson

    stored = request.session.get(INTAKE_SESSION_KEY)
    if not stored:
        return None
    user = User.objects.filter(pk=stored["user"]).first() if stored.get("user") else None
    walk_in = (
        WalkInPerson.objects.filter(pk=stored["walk_in"]).first() if stored.get("walk_in") else None
    )
    if walk_in is not None and walk_in.claimed_by_id is not None:
        # Claimed on an account since the clerk identified them: serve the account.
        user, walk_in = walk_in.claimed_by, None
    enterprise = (
        Enterprise.objects.filter(pk=stored["enterprise"]).first()
        if stored.get("enterprise")
        else None
    )
    if user is None and walk_in is None:
        return None
    return IntakeApplicant(
        user=user,
        walk_in_person=walk_in,
        enterprise=enterprise,
        capacity=stored.get("capacity", "self"),
    )


def _clerk_items(user: Any) -> list[Any]:
    from apps.catalog.selectors import published_items

    department_ids = selectors.staff_department_ids(user, CLERK_ROLES)
    return list(
        published_items()
        .filter(department_id__in=department_ids)
        .select_related("current_version")
        .order_by("name")[:200]
    )


def _clerk_hall(user: Any, department_id: int) -> Any | None:
    """The hall where the clerk receives walk-in cases for the department (its membership's)."""
    membership = (
        user.memberships.filter(
            is_active=True, department_id=department_id, role__in=CLERK_ROLES, hall__isnull=False
        )
        .select_related("hall")
        .order_by("pk")
        .first()
    )
    return membership.hall if membership is not None else None


@staff_required
def case_intake(request: HttpRequest) -> HttpResponse:
    """一窗受理: identify the applicant, choose the item, tick materials, create and accept.

    A refused step re-renders with everything the clerk typed or ticked still in place."""
    context: dict[str, Any] = {"office_section": "intake", "identify": {}}
    if request.method == "POST" and request.POST.get("step") == "identify":
        try:
            identified = _identify(request)
        except DomainError as exc:
            messages.error(request, exc.message)
            context["identify"] = {key: request.POST.get(key, "") for key in IDENTIFY_FIELDS}
        else:
            request.session[INTAKE_SESSION_KEY] = identified
            return HttpResponseRedirect(reverse("office-cases:intake"))
    if request.method == "POST" and request.POST.get("step") == "reset":
        request.session.pop(INTAKE_SESSION_KEY, None)
        return HttpResponseRedirect(reverse("office-cases:intake"))

    applicant = _intake_applicant(request)
    context["applicant"] = applicant
    if applicant is None:
        return render(request, "cases/office/intake.html", context)

    items = _clerk_items(request.user)
    context["items"] = items
    code = request.GET.get("item", "") or request.POST.get("item", "")
    version = next(
        (i.current_version for i in items if i.current_version and i.implementation_code == code),
        None,
    )
    context["version"] = version
    if version is None:
        return render(request, "cases/office/intake.html", context)

    from apps.catalog.forms import build_application_form

    form = build_application_form(version, kind=applicant.kind)
    context["received"] = set()
    context["tolerated"] = set()
    context["commitment"] = ""
    context["reasons"] = {}
    context["notice"] = {"due_days": "5", "due_unit": DayUnit.WORKING, "note": ""}
    step = request.POST.get("step") if request.method == "POST" else None
    if step in ("accept", "notice"):
        data = posted_form_data(request, list(form.fields))
        person_applies = applicant.enterprise is None
        applicant_args = {
            "clerk": request.user,
            "version": version,
            "applicant_user": applicant.user if person_applies else None,
            "enterprise": applicant.enterprise,
            "acting_user": applicant.user,
            "walk_in_person": applicant.walk_in_person,
            "window_capacity": applicant.capacity,
            "form_data": data,
            "received_keys": request.POST.getlist("received"),
            "hall": _clerk_hall(request.user, version.department_id),
        }
        try:
            if step == "accept":
                case = services.create_window_case(
                    **applicant_args, tolerances=_tolerances(request)
                )
            else:
                notice = services.issue_window_supplement(
                    **applicant_args,
                    reasons=_reasons(request, version),
                    due_days=_int(request.POST.get("due_days", ""), 0),
                    due_unit=request.POST.get("due_unit", DayUnit.WORKING),
                    note=request.POST.get("note", ""),
                )
        except DomainError as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    messages.error(
                        request,
                        f"{form.fields[field].label if field in form.fields else field}：{error}",
                    )
        else:
            request.session.pop(INTAKE_SESSION_KEY, None)
            if step == "notice":
                messages.success(
                    request,
                    _("已收件并出具一次性告知书，办件编号 %(number)s。请打印交申请人。")
                    % {"number": notice.case.number},
                )
                return HttpResponseRedirect(
                    reverse("office-cases:notice", args=[notice.case_id, "supplement"])
                )
            messages.success(request, _("已受理，办件编号 %(number)s") % {"number": case.number})
            return HttpResponseRedirect(reverse("office-cases:case", args=[case.pk]))
        # Refused: keep what was typed and ticked.
        form.initial = data
        context["received"] = set(request.POST.getlist("received"))
        context["tolerated"] = set(request.POST.getlist("tolerate"))
        context["commitment"] = request.POST.get("commitment", "")
        context["reasons"] = _reasons(request, version)
        context["notice"] = {
            "due_days": request.POST.get("due_days", ""),
            "due_unit": request.POST.get("due_unit", DayUnit.WORKING),
            "note": request.POST.get("note", ""),
        }
    context["form"] = form
    context["materials"] = [
        (material, context["reasons"].get(material.key, ""))
        for material in version.materials.all().order_by("order", "pk")
    ]
    context["day_units"] = DayUnit.choices
    return render(request, "cases/office/intake.html", context)


def _reasons(request: HttpRequest, version: Any) -> dict[str, str]:
    """The clerk's note per material (what must be supplied), as typed on the intake screen."""
    return {
        material.key: request.POST.get(f"reason_{material.key}", "").strip()
        for material in version.materials.all()
    }
