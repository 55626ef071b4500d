"""Account pages: login (citizens and staff), logout (here or everywhere), registration with
an SMS code, 忘记密码 by SMS code, and the django-axes lockout page.

Thin (STYLE.md V1): forms validate input, services change state, templates show Chinese text.
"""

from __future__ import annotations

import time
from typing import Any

from axes.helpers import get_client_ip_address

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.exceptions import DomainError
from apps.identity import password_reset as reset
from apps.identity import services
from apps.identity.forms import (
    LoginForm,
    PasswordResetForm,
    PhoneForm,
    RegistrationForm,
)
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
