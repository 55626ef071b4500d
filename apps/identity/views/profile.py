"""个人中心: the profile page and its actions — real-name verification, L3, binding an
enterprise, agents and licence administrators.

Thin (STYLE.md V1): forms validate input, services change state, templates show Chinese text.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.exceptions import DomainError
from apps.identity import selectors, services
from apps.identity.constants import MAX_LICENCE_ADMINS, AssuranceLevel
from apps.identity.forms import (
    BindEnterpriseForm,
    GrantAgentForm,
    LevelThreeForm,
    LicenceAdminForm,
    VerifyRealNameForm,
)
from apps.identity.models import AgentAuthorisation, Enterprise, EnterpriseRole


def safe_next(request: HttpRequest) -> str:
    """The ``next`` of the request (POST first, then GET) when it points into this site, else
    "". The SSO step-up page sends people here with ``next`` = the sign-in to resume."""
    value = request.POST.get("next") or request.GET.get("next") or ""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _after_raise(request: HttpRequest) -> HttpResponse:
    """Back to the sign-in that asked for a higher level, or to the level section."""
    next_url = safe_next(request)
    return HttpResponseRedirect(next_url) if next_url else _back_to_profile("level")


def _profile_context(
    request: HttpRequest,
    *,
    grant_form: GrantAgentForm | None = None,
    admin_form: LicenceAdminForm | None = None,
    **forms: Any,
) -> dict[str, Any]:
    """Everything the profile page shows; ``forms`` replaces a blank form with a bound one
    (``grant_form`` for the enterprise it was posted for)."""
    user = request.user
    person = selectors.get_person(user)
    if person is not None:
        user.person = person  # one query: the template's user.assurance_level reuses it
    managed = selectors.managed_enterprises_with_authorisations(user)
    held = list(selectors.list_authorisations_held_by(user).active())
    for enterprise in managed:
        # One grant form per enterprise, each with its own element ids.
        if grant_form is not None and grant_form.enterprise_id == enterprise.pk:
            enterprise.grant_form = grant_form
        else:
            enterprise.grant_form = GrantAgentForm(auto_id=f"id_grant{enterprise.pk}_%s")
        if admin_form is not None and admin_form.enterprise_id == enterprise.pk:
            enterprise.admin_form = admin_form
        else:
            enterprise.admin_form = LicenceAdminForm(auto_id=f"id_admin{enterprise.pk}_%s")
    context: dict[str, Any] = {
        "person": person,
        "raises": list(selectors.level_history(person)) if person is not None else [],
        "managed": managed,
        "held": held,
        "verify_form": VerifyRealNameForm(),
        "bind_form": BindEnterpriseForm(),
        "levels": AssuranceLevel,
        "next_url": safe_next(request),
        "max_licence_admins": MAX_LICENCE_ADMINS,
    }
    context.update(forms)
    return context


def _render_profile(request: HttpRequest, status: int = 200, **forms: Any) -> HttpResponse:
    context = _profile_context(request, **forms)
    return render(request, "identity/profile.html", context, status=status)


def _back_to_profile(anchor: str = "") -> HttpResponse:
    return HttpResponseRedirect(reverse("identity:profile") + (f"#{anchor}" if anchor else ""))


@login_required
@require_http_methods(["GET"])
def profile(request: HttpRequest) -> HttpResponse:
    """个人中心: real-name level and its history, masked contact data, enterprises, agents."""
    return _render_profile(request)


@login_required
@require_POST
def verify_real_name(request: HttpRequest) -> HttpResponse:
    """L1 → L2 by name + ID number against the population registry."""
    form = VerifyRealNameForm(request.POST)
    if form.is_valid():
        try:
            services.verify_real_name(
                user=request.user,
                name=form.cleaned_data["name"],
                id_number=form.cleaned_data["id_number"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("实名核验通过，您的实名等级已提升为 L2"))
            if selectors.has_claimed_walk_in_record(request.user):
                messages.info(
                    request,
                    _("您此前在政务服务大厅窗口办理的事项已归入“我的办件”，可随时查看进度。"),
                )
            return _after_raise(request)
    return _render_profile(request, status=400, verify_form=form)


@login_required
@never_cache
@sensitive_post_parameters("id_number", "card_number", "phone")
@require_http_methods(["GET", "POST"])
def level_three(request: HttpRequest) -> HttpResponse:
    """L2 → L3 through the configured real-person provider (development: bank-card four
    factors). Honours ``next`` like the profile page."""
    person = selectors.get_person(request.user)
    form = LevelThreeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.verify_level_three(user=request.user, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("实人认证通过，您的实名等级已提升为 L3"))
                return _after_raise(request)
        status = 400
    context = {
        "form": form,
        "person": person,
        "levels": AssuranceLevel,
        "next_url": safe_next(request),
    }
    return render(request, "identity/level_three.html", context, status=status)


@login_required
@require_POST
def bind_enterprise(request: HttpRequest) -> HttpResponse:
    form = BindEnterpriseForm(request.POST)
    if form.is_valid():
        try:
            enterprise = services.bind_enterprise(user=request.user, uscc=form.cleaned_data["uscc"])
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已绑定企业：%(name)s") % {"name": enterprise.name})
            return _back_to_profile("enterprises")
    return _render_profile(request, status=400, bind_form=form)


@login_required
@require_POST
def grant_agent(request: HttpRequest, enterprise_id: int) -> HttpResponse:
    """The legal representative or a licence administrator authorises an agent."""
    try:
        enterprise = selectors.get_managed_enterprise_for(request.user, enterprise_id)
    except Enterprise.DoesNotExist as exc:
        raise Http404 from exc
    form = GrantAgentForm(request.POST, auto_id=f"id_grant{enterprise.pk}_%s")
    form.enterprise_id = enterprise.pk
    if form.is_valid():
        data = form.cleaned_data
        if data["agent_phone"]:
            agent = selectors.find_verified_person_by_phone(data["agent_phone"])
        else:
            agent = selectors.find_verified_person(
                id_number=data["agent_id_number"], name=data["agent_name"]
            )
        if agent is None:
            form.add_error(
                None, _("未找到与所填信息相符的实名用户：经办人须先注册并完成实名核验（L2）")
            )
        else:
            try:
                services.grant_agent_authorisation(
                    actor=request.user,
                    enterprise=enterprise,
                    agent=agent,
                    scope=data["scope"],
                    item_codes=data["item_codes"],
                    expires_at=form.expires_at(),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("已授权 %(agent)s 代表%(enterprise)s办事")
                    % {"agent": agent.masked_name, "enterprise": enterprise.name},
                )
                return _back_to_profile(f"enterprise-{enterprise.pk}")
    return _render_profile(request, status=400, grant_form=form)


@login_required
@require_POST
def revoke_agent(request: HttpRequest, authorisation_id: int) -> HttpResponse:
    try:
        authorisation = selectors.get_managed_authorisation_for(request.user, authorisation_id)
    except AgentAuthorisation.DoesNotExist as exc:
        raise Http404 from exc
    try:
        services.revoke_agent_authorisation(actor=request.user, authorisation_id=authorisation.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("授权已撤销"))
    return _back_to_profile(f"enterprise-{authorisation.enterprise_id}")


@login_required
@require_POST
def add_licence_admin(request: HttpRequest, enterprise_id: int) -> HttpResponse:
    """The legal representative appoints a licence administrator (at most five, audited)."""
    try:
        enterprise = selectors.get_represented_enterprise_for(request.user, enterprise_id)
    except Enterprise.DoesNotExist as exc:
        raise Http404 from exc
    form = LicenceAdminForm(request.POST, auto_id=f"id_admin{enterprise.pk}_%s")
    form.enterprise_id = enterprise.pk
    if form.is_valid():
        data = form.cleaned_data
        candidate = selectors.find_verified_user(
            phone=data["admin_phone"], id_number=data["admin_id_number"], name=data["admin_name"]
        )
        if candidate is None:
            form.add_error(
                None, _("未找到与所填信息相符的实名用户：证照管理员须先注册并完成实名核验（L2）")
            )
        elif candidate.pk == request.user.pk:
            form.add_error(None, _("法定代表人无需设置为证照管理员"))
        else:
            try:
                services.add_licence_administrator(
                    actor=request.user, enterprise=enterprise, user=candidate
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("已设置 %(name)s 为%(enterprise)s的证照管理员")
                    % {"name": candidate.masked_name, "enterprise": enterprise.name},
                )
                return _back_to_profile(f"admins-{enterprise.pk}")
    return _render_profile(request, status=400, admin_form=form)


@login_required
@require_POST
def remove_licence_admin(request: HttpRequest, role_id: int) -> HttpResponse:
    try:
        role = selectors.get_licence_admin_role_for(request.user, role_id)
    except EnterpriseRole.DoesNotExist as exc:
        raise Http404 from exc
    try:
        services.remove_licence_administrator(actor=request.user, role_id=role.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已移除证照管理员，其授予的经办人授权同时失效"))
    return _back_to_profile(f"admins-{role.enterprise_id}")
