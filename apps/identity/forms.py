"""HTML forms of the identity pages: labels, help and errors in Chinese (gettext)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from apps.identity.models import User
from apps.identity.validators import clean_phone

_DIGITS = re.compile(r"^\+?\d+$")


class LoginForm(AuthenticationForm):
    """Username or mobile number + password. django-axes counts the failures."""

    username = forms.CharField(
        label=_("用户名或手机号码"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_login": _("用户名（手机号码）或密码不正确。连续输错多次后账号将被临时锁定。"),
        "inactive": _("该账号已停用，请联系12345政务服务热线"),
    }


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])


class RegistrationForm(PhoneForm):
    """Phone + SMS code + username + password. The code is checked by the service."""

    code = forms.CharField(
        label=_("短信验证码"),
        max_length=6,
        min_length=6,
        help_text=_("6位数字，5分钟内有效"),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
        error_messages={
            "min_length": _("请输入6位数字验证码"),
            "max_length": _("请输入6位数字验证码"),
        },
    )
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        help_text=_("用于登录，可使用字母、数字和 @ . + - _，不能是纯数字"),
        validators=[UnicodeUsernameValidator()],
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = forms.CharField(
        label=_("密码"),
        strip=False,
        help_text=_("至少8位，不能全是数字，不能与用户名过于相似"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("确认密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    field_order = ["phone", "code", "username", "password1", "password2"]

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not code.isdigit():
            raise forms.ValidationError(_("请输入6位数字验证码"))
        return code

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if _DIGITS.match(username):
            # A numeric username could shadow someone's mobile number at login.
            raise forms.ValidationError(_("用户名不能是纯数字"))
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("该用户名已被注册"))
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password1 = cleaned.get("password1")
        password2 = cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("两次输入的密码不一致"))
        elif password1:
            candidate = User(username=cleaned.get("username", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned
