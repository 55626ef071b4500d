"""Account pages: login, logout (here or everywhere), registration with an SMS code.

Thin (STYLE.md V1): forms validate input, services change state, templates show Chinese text.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.exceptions import DomainError
from apps.identity import selectors, services
from apps.identity.forms import LoginForm, PhoneForm, RegistrationForm


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


@login_required
@require_http_methods(["GET"])
def profile(request: HttpRequest) -> HttpResponse:
    """个人中心: level and masked contact data (expanded with enterprises and agents)."""
    person = selectors.get_person(request.user)
    return render(request, "identity/profile.html", {"person": person})
