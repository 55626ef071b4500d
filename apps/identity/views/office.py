"""Staff screens of identity: the clerk's identify screen (一窗受理 applicant by account, by
ID card against the registry, reveal and in-person verification) and department
administrators' per-object reveal grants."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.exceptions import DomainError
from apps.identity import selectors, services
from apps.identity.constants import AssuranceLevel
from apps.identity.forms import (
    IdentifyApplicantForm,
    RevealGrantForm,
    WindowVerifyForm,
)
from apps.identity.models import AgentAuthorisation, Enterprise, Person, User
from apps.identity.permissions import can_identify_applicants


def identify_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged in, with an active clerk or department-administrator membership."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_identify_applicants(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


IDENTIFIED_SESSION_KEY = "identity_identified"


def _remember_holder(request: HttpRequest, holder: services.IdentifiedHolder) -> None:
    request.session[IDENTIFIED_SESSION_KEY] = {
        "user": holder.user.pk,
        "enterprise": getattr(holder.enterprise, "pk", None),
        "authorisation": getattr(holder.authorisation, "pk", None),
        "capacity": holder.capacity,
        "code": holder.service_code_id,
    }


def _remembered_holder(request: HttpRequest) -> services.IdentifiedHolder | None:
    stored = request.session.get(IDENTIFIED_SESSION_KEY)
    if not stored:
        return None
    user = User.objects.select_related("person").filter(pk=stored["user"]).first()
    if user is None:
        return None
    enterprise = (
        Enterprise.objects.filter(pk=stored["enterprise"]).first() if stored["enterprise"] else None
    )
    authorisation = (
        AgentAuthorisation.objects.filter(pk=stored["authorisation"]).first()
        if stored["authorisation"]
        else None
    )
    return services.IdentifiedHolder(
        user=user,
        enterprise=enterprise,
        authorisation=authorisation,
        capacity=stored["capacity"],
        service_code_id=stored["code"],
    )


def _render_identify(
    request: HttpRequest,
    *,
    form: IdentifyApplicantForm | None = None,
    revealed: str = "",
    window_form: WindowVerifyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    holder = _remembered_holder(request)
    person = None
    if holder is not None:
        try:
            person = holder.user.person
        except Person.DoesNotExist:
            person = None
    context = {
        "form": form or IdentifyApplicantForm(),
        "holder": holder,
        "person": person,
        "revealed": revealed,
        "window_form": window_form or WindowVerifyForm(),
        "levels": AssuranceLevel,
        "office_section": "identify",
    }
    response = render(request, "identity/office_identify.html", context, status=status)
    add_never_cache_headers(response)
    return response


@identify_staff_required
@require_http_methods(["GET", "POST"])
def office_identify(request: HttpRequest) -> HttpResponse:
    """一窗受理 step one on its own: scan or type the applicant's service code, or check an ID
    card (number + name). Shows the person masked and the enterprise they act for; the person
    stays on the screen (in the clerk's session) until the next one is identified."""
    if request.method == "GET":
        return _render_identify(request)
    if request.POST.get("step") == "reset":
        request.session.pop(IDENTIFIED_SESSION_KEY, None)
        return HttpResponseRedirect(reverse("office-identity:identify"))
    form = IdentifyApplicantForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["code"].strip():
                holder = services.redeem_service_code(data["code"], clerk=request.user)
            else:
                user = selectors.find_verified_person(
                    id_number=data["id_number"], name=data["name"]
                )
                if user is None:
                    raise DomainError(
                        _("未找到与该身份证号码和姓名相符的实名用户"), code="person_not_found"
                    )
                holder = services.IdentifiedHolder(user=user)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            _remember_holder(request, holder)
            messages.success(request, _("已核验申请人身份"))
            return HttpResponseRedirect(reverse("office-identity:identify"))
    request.session.pop(IDENTIFIED_SESSION_KEY, None)
    return _render_identify(request, form=form, status=400)


@identify_staff_required
@require_POST
def office_reveal_id_number(request: HttpRequest) -> HttpResponse:
    """Show the identified person's full ID number once, for a stated reason (audited)."""
    holder = _remembered_holder(request)
    if holder is None:
        return HttpResponseRedirect(reverse("office-identity:identify"))
    try:
        number = services.reveal_person_id_number(
            staff=request.user, subject=holder.user, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _render_identify(request, status=403 if exc.code == "reveal_not_allowed" else 400)
    return _render_identify(request, revealed=number)


@identify_staff_required
@require_POST
def office_verify_in_person(request: HttpRequest) -> HttpResponse:
    """窗口当面核验: the clerk has compared the identified person with their ID card and raises
    them to L4 (recorded with the clerk, audited)."""
    holder = _remembered_holder(request)
    if holder is None:
        return HttpResponseRedirect(reverse("office-identity:identify"))
    form = WindowVerifyForm(request.POST)
    if form.is_valid():
        try:
            services.verify_in_person_at_window(clerk=request.user, subject=holder.user)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("当面核验完成，申请人的实名等级已提升为 L4"))
            return HttpResponseRedirect(reverse("office-identity:identify"))
    return _render_identify(request, window_form=form, status=400)


# --- department administrators: per-object reveal grants -----------------------------------


def _render_reveal_grants(
    request: HttpRequest,
    department_ids: list[int],
    form: RevealGrantForm | None = None,
    status: int = 200,
) -> HttpResponse:
    from apps.core.models import Department

    context = {
        "form": form or RevealGrantForm(department_ids=department_ids),
        "grants": selectors.reveal_grants_in_departments(department_ids),
        "departments": {d.pk: d for d in Department.objects.filter(pk__in=department_ids)},
        "office_section": "identify",
    }
    response = render(request, "identity/office_reveal_grants.html", context, status=status)
    add_never_cache_headers(response)
    return response


def _staff_department(staff: User, department_ids: list[int]) -> int | None:
    return (
        staff.memberships.filter(department_id__in=department_ids, is_active=True)
        .order_by("department_id")
        .values_list("department_id", flat=True)
        .first()
    )


@login_required
@require_http_methods(["GET", "POST"])
def office_reveal_grants(request: HttpRequest) -> HttpResponse:
    """部门管理员: grant a staff member of their department the right to see one person's full
    ID number (django-guardian per-object permission), and list / withdraw such grants.
    Every grant and withdrawal is audited; every reveal made under a grant is audited too."""
    department_ids = selectors.administered_department_ids(request.user)
    if not department_ids:
        raise PermissionDenied
    if request.method == "GET":
        return _render_reveal_grants(request, department_ids)
    form = RevealGrantForm(request.POST, department_ids=department_ids)
    if form.is_valid():
        data = form.cleaned_data
        subject = selectors.find_verified_person(id_number=data["id_number"], name=data["name"])
        department = _staff_department(data["staff"], department_ids)
        if subject is None:
            form.add_error(None, _("未找到与该身份证号码和姓名相符的实名用户"))
        elif department is None:
            form.add_error("staff", _("只能授予本部门工作人员"))
        else:
            try:
                services.grant_reveal_permission(
                    granted_by=request.user,
                    staff=data["staff"],
                    subject=subject,
                    department=department,
                    reason=data["reason"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("已授予查看权限"))
                return HttpResponseRedirect(reverse("office-identity:reveal-grants"))
    return _render_reveal_grants(request, department_ids, form=form, status=400)


@login_required
@require_POST
def office_revoke_reveal_grant(request: HttpRequest, grant_id: int) -> HttpResponse:
    department_ids = selectors.administered_department_ids(request.user)
    if not department_ids:
        raise PermissionDenied
    grant = next(
        (g for g in selectors.reveal_grants_in_departments(department_ids) if g["id"] == grant_id),
        None,
    )
    if grant is None:
        raise Http404
    try:
        services.revoke_reveal_permission(
            revoked_by=request.user,
            staff=grant["staff"],
            subject=grant["person"].user,
            department=grant["department_id"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已撤销查看权限"))
    return HttpResponseRedirect(reverse("office-identity:reveal-grants"))
