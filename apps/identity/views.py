"""Account pages: login, logout (here or everywhere), registration with an SMS code.

Thin (STYLE.md V1): forms validate input, services change state, templates show Chinese text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import segno
from axes.helpers import get_client_ip_address

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.exceptions import DomainError
from apps.identity import password_reset as reset
from apps.identity import selectors, services
from apps.identity.constants import MAX_LICENCE_ADMINS, AssuranceLevel
from apps.identity.forms import (
    BindEnterpriseForm,
    GrantAgentForm,
    IdentifyApplicantForm,
    LevelThreeForm,
    LicenceAdminForm,
    LoginForm,
    PasswordResetForm,
    PhoneForm,
    RegistrationForm,
    RevealGrantForm,
    VerifyRealNameForm,
    WindowVerifyForm,
)
from apps.identity.models import AgentAuthorisation, Enterprise, EnterpriseRole, Person, User
from apps.identity.permissions import can_identify_applicants
from apps.identity.pii import blind_index


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the Chinese lockout page, HTTP 429."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "identity/lockout.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes},
        status=429,
    )


class PortalLoginView(LoginView):
    """Password login (username or mobile number); django-axes locks repeated failures."""

    template_name = "identity/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        return context

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Office pages send signed-out staff here (LOGIN_URL) with ``next`` = the office page:
        # they get the staff sign-in, which returns them there (or to the office home).
        next_url = self.get_redirect_url()
        if not request.user.is_authenticated and next_url.startswith(OFFICE_PREFIX):
            query = urlencode({"next": next_url})
            return HttpResponseRedirect(f"{reverse('office-identity:login')}?{query}")
        return super().get(request, *args, **kwargs)


OFFICE_PREFIX = "/office/"


class StaffLoginView(PortalLoginView):
    """工作人员登录 at /office/login/: the portal's own password sign-in (django-axes, the staff
    idle timeout) in the office layout; lands on ``next`` or the office home. An account without
    a staff membership is sent to its profile with a message instead of a 403."""

    template_name = "identity/office_login.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return LoginView.get(self, request, *args, **kwargs)

    def get_default_redirect_url(self) -> str:
        return reverse("office-home")

    def get_success_url(self) -> str:
        from apps.identity.middleware import is_staff_account

        if not is_staff_account(self.request.user):
            messages.warning(self.request, _("该账号不是工作人员账号，已为您打开个人中心。"))
            return reverse("identity:profile")
        return super().get_success_url()


@require_POST
@csrf_protect
def logout_view(request: HttpRequest) -> HttpResponse:
    """POST only. ``everywhere=1`` also ends the account's sessions on every other device."""
    user = request.user
    if user.is_authenticated and request.POST.get("everywhere") == "1":
        services.end_all_sessions(user=user)
        auth_logout(request)
        messages.success(request, _("已在所有设备上退出登录"))
    else:
        auth_logout(request)
        messages.success(request, _("您已安全退出"))
    return HttpResponseRedirect(settings.LOGOUT_REDIRECT_URL)


@never_cache
@sensitive_post_parameters("password1", "password2", "code")
@csrf_protect
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Registration on one page that works without JavaScript: "获取验证码" posts the phone
    number alone (``action=send_code``); "注册" posts the whole form."""
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("identity:profile"))
    if request.method == "POST" and request.POST.get("action") == "send_code":
        phone_form = PhoneForm(request.POST)
        form = RegistrationForm(initial={"phone": request.POST.get("phone", "")})
        if phone_form.is_valid():
            try:
                services.send_phone_code(phone=phone_form.cleaned_data["phone"])
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("验证码已发送，请查收短信（5分钟内有效）"))
        else:
            for error in phone_form.errors.get("phone", []):
                messages.error(request, error)
        return render(request, "identity/register.html", {"form": form}, status=200)
    if request.method == "POST":
        form = RegistrationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.register_person(
                    username=data["username"],
                    password=data["password1"],
                    phone=data["phone"],
                    code=data["code"],
                )
            except DomainError as exc:
                field = "code" if exc.code == "invalid_phone_code" else None
                form.add_error(field, exc.message)
            else:
                auth_login(request, user, backend="apps.identity.backends.UsernameOrPhoneBackend")
                messages.success(request, _("注册成功。完成实名核验后可在线办理更多事项。"))
                return HttpResponseRedirect(reverse("identity:profile"))
        return render(request, "identity/register.html", {"form": form}, status=200)
    return render(request, "identity/register.html", {"form": RegistrationForm()})


@never_cache
@sensitive_post_parameters("password1", "password2", "code")
@csrf_protect
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """忘记密码 on one page, like registration: "获取验证码" posts the phone alone
    (``action=send_code``), "重置密码" the whole form. The answer to a code request is the same
    whether or not the number has an account (``apps.identity.password_reset``)."""
    template = "identity/password_reset.html"
    if request.method == "POST" and request.POST.get("action") == "send_code":
        phone_form = PhoneForm(request.POST)
        form = PasswordResetForm(initial={"phone": request.POST.get("phone", "")})
        if not phone_form.is_valid():
            for error in phone_form.errors.get("phone", []):
                messages.error(request, error)
        elif reset_throttled(request):
            messages.error(request, _("操作过于频繁，请稍后再试"))
        else:
            try:
                reset.request_reset_code(phone=phone_form.cleaned_data["phone"])
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("如该号码是已注册账号的手机号码，验证码已发送，请查收短信（5分钟内有效）"),
                )
        return render(request, template, {"form": form})
    if request.method == "POST":
        form = PasswordResetForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                reset.reset_password(
                    phone=data["phone"], code=data["code"], password=data["password1"]
                )
            except DomainError as exc:
                field = "code" if exc.code == "invalid_phone_code" else "password1"
                form.add_error(field, exc.message)
            else:
                if request.user.is_authenticated:
                    auth_logout(request)
                messages.success(request, _("密码已重置，请用新密码登录。其他设备上的登录已退出。"))
                return HttpResponseRedirect(reverse("identity:login"))
        return render(request, template, {"form": form})
    return render(request, template, {"form": PasswordResetForm()})


def reset_throttled(request: HttpRequest) -> bool:
    """A coarse per-address brake on code requests (``PASSWORD_RESET_IP_LIMIT`` an hour), on
    top of the per-number limits: one client cannot text many numbers."""
    limit = settings.PASSWORD_RESET_IP_LIMIT
    if limit <= 0:
        return False
    address = get_client_ip_address(request) or "unknown"
    digest = blind_index(address, purpose="login_ip")[:32]
    key = f"identity:reset-ip:{digest}:{int(time.time() // 3600)}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:
        count = 1
    return count > limit


# --- 个人中心 -----------------------------------------------------------------------------------


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


# --- service code (一人一码 / 一企一码) ----------------------------------------------------------


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


# --- the clerk's identify screen ---------------------------------------------------------------


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
