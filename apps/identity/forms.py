"""HTML forms of the identity pages: labels, help and errors in Chinese (gettext)."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.identity.constants import AuthorisationScope
from apps.identity.models import User
from apps.identity.validators import clean_id_number, clean_phone, validate_uscc

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


class PasswordResetForm(PhoneForm):
    """忘记密码: phone + SMS code + the new password twice (the code is checked by the service,
    the password against the account by the validators there as well)."""

    code = RegistrationForm.base_fields["code"]
    password1 = forms.CharField(
        label=_("新密码"),
        strip=False,
        help_text=_("至少8位，不能全是数字"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("确认新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    field_order = ["phone", "code", "password1", "password2"]

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not code.isdigit():
            raise forms.ValidationError(_("请输入6位数字验证码"))
        return code

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password1 = cleaned.get("password1")
        password2 = cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("两次输入的密码不一致"))
        elif password1:
            try:
                password_validation.validate_password(password1)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class VerifyRealNameForm(forms.Form):
    """L1 → L2: name + ID number, matched against the population registry by the service."""

    name = forms.CharField(
        label=_("姓名"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    id_number = forms.CharField(
        label=_("居民身份证号码"),
        max_length=24,
        help_text=_("18位，最后一位可能是X"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_id_number(self) -> str:
        return clean_id_number(self.cleaned_data["id_number"])


class LevelThreeForm(forms.Form):
    """L2 → L3 by bank-card four factors (the development provider; see verification.py)."""

    name = forms.CharField(
        label=_("姓名"), max_length=64, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    id_number = forms.CharField(
        label=_("居民身份证号码"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=_("银行预留手机号码"),
        max_length=20,
        help_text=_("须与您在本平台注册的手机号码一致"),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    card_number = forms.CharField(
        label=_("本人银行卡号"),
        max_length=30,
        help_text=_("16至19位借记卡或信用卡号，仅用于本次核验，不会保存"),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_id_number(self) -> str:
        return clean_id_number(self.cleaned_data["id_number"])

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean_card_number(self) -> str:
        value = "".join(self.cleaned_data["card_number"].split()).replace("-", "")
        if not value.isdigit() or not 16 <= len(value) <= 19:
            raise forms.ValidationError(_("银行卡号应为16至19位数字"))
        return value


class WindowVerifyForm(forms.Form):
    """The clerk confirms the face-to-face check before raising the person to L4."""

    confirmed = forms.BooleanField(
        label=_("已当面核对申请人本人与其居民身份证原件一致"),
        error_messages={"required": _("请先当面核对申请人本人与居民身份证原件，并勾选确认")},
    )


class BindEnterpriseForm(forms.Form):
    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=24,
        help_text=_("18位，见营业执照"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_uscc(self) -> str:
        number = "".join(self.cleaned_data["uscc"].split()).upper()
        validate_uscc(number)
        return number


_CODE_SPLIT = re.compile(r"[\s,，、;；]+")


def default_agent_expiry_date() -> datetime.date:
    from django.conf import settings

    return timezone.localdate() + datetime.timedelta(days=settings.AGENT_AUTHORISATION_DEFAULT_DAYS)


class GrantAgentForm(forms.Form):
    """Authorise an agent (经办人): found by mobile number, or by ID number + name."""

    enterprise_id: int | None = None  # which enterprise's section shows this (bound) form

    agent_phone = forms.CharField(
        label=_("经办人手机号码"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    agent_id_number = forms.CharField(
        label=_("或：经办人身份证号码"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    agent_name = forms.CharField(
        label=_("经办人姓名"),
        max_length=64,
        required=False,
        help_text=_("按身份证号码查找时必填"),
    )
    scope = forms.ChoiceField(
        label=_("授权范围"),
        choices=AuthorisationScope.choices,
        initial=AuthorisationScope.ALL,
        widget=forms.RadioSelect,
    )
    item_codes = forms.CharField(
        label=_("授权事项编码"),
        required=False,
        help_text=_("精准授权时填写，多个编码用空格或逗号分隔"),
    )
    expires_on = forms.DateField(
        label=_("授权有效期至"),
        initial=default_agent_expiry_date,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("请输入有效日期，例如 2026-12-31")},
    )

    def clean_agent_phone(self) -> str:
        value = self.cleaned_data["agent_phone"].strip()
        return clean_phone(value) if value else ""

    def clean_agent_id_number(self) -> str:
        value = self.cleaned_data["agent_id_number"].strip()
        return clean_id_number(value) if value else ""

    def clean_item_codes(self) -> list[str]:
        raw = self.cleaned_data["item_codes"].strip()
        return [code for code in _CODE_SPLIT.split(raw) if code]

    def clean_expires_on(self) -> datetime.date:
        value = self.cleaned_data["expires_on"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("授权有效期不能早于今天"))
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        phone = cleaned.get("agent_phone")
        id_number = cleaned.get("agent_id_number")
        name = (cleaned.get("agent_name") or "").strip()
        if not self.errors.get("agent_phone") and not self.errors.get("agent_id_number"):
            if not phone and not id_number:
                raise forms.ValidationError(_("请填写经办人手机号码，或身份证号码和姓名"))
            if id_number and not name:
                self.add_error("agent_name", _("按身份证号码查找经办人时须填写姓名"))
        if cleaned.get("scope") == AuthorisationScope.ITEMS and not cleaned.get("item_codes"):
            self.add_error("item_codes", _("精准授权须至少填写一个事项编码"))
        return cleaned

    def expires_at(self) -> datetime.datetime:
        """The end of the chosen day, local time (the authorisation is valid through it)."""
        day = self.cleaned_data["expires_on"] + datetime.timedelta(days=1)
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class LicenceAdminForm(forms.Form):
    """Appoint a licence administrator (证照管理员): found by mobile number, or ID number + name."""

    enterprise_id: int | None = None

    admin_phone = forms.CharField(
        label=_("证照管理员手机号码"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    admin_id_number = forms.CharField(
        label=_("或：证照管理员身份证号码"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    admin_name = forms.CharField(
        label=_("证照管理员姓名"),
        max_length=64,
        required=False,
        help_text=_("按身份证号码查找时必填"),
    )

    def clean_admin_phone(self) -> str:
        value = self.cleaned_data["admin_phone"].strip()
        return clean_phone(value) if value else ""

    def clean_admin_id_number(self) -> str:
        value = self.cleaned_data["admin_id_number"].strip()
        return clean_id_number(value) if value else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors.get("admin_phone") and not self.errors.get("admin_id_number"):
            phone = cleaned.get("admin_phone")
            id_number = cleaned.get("admin_id_number")
            if not phone and not id_number:
                raise forms.ValidationError(_("请填写证照管理员手机号码，或身份证号码和姓名"))
            if id_number and not (cleaned.get("admin_name") or "").strip():
                self.add_error("admin_name", _("按身份证号码查找时须填写姓名"))
        return cleaned


class IdentifyApplicantForm(forms.Form):
    """The clerk's identify screen: a scanned or typed service code, or ID number + name."""

    code = forms.CharField(
        label=_("服务码"),
        max_length=40,
        required=False,
        help_text=_("扫描申请人出示的二维码，或输入码下方的字符（不区分大小写）"),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}
        ),
    )
    id_number = forms.CharField(
        label=_("或：身份证号码"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(label=_("姓名"), max_length=64, required=False)

    def clean_id_number(self) -> str:
        value = self.cleaned_data["id_number"].strip()
        return clean_id_number(value) if value else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        code = cleaned.get("code", "").strip()
        id_number = cleaned.get("id_number")
        name = cleaned.get("name", "").strip()
        if not code and not id_number:
            raise forms.ValidationError(_("请扫描服务码，或输入身份证号码和姓名"))
        if not code and not name:
            self.add_error("name", _("按身份证号码核验时须填写姓名"))
        return cleaned


class RevealGrantForm(forms.Form):
    """A department administrator lets one staff member of their department see one person's
    full ID number (per-object grant)."""

    staff = forms.ModelChoiceField(
        label=_("被授权的工作人员"), queryset=User.objects.none(), empty_label=_("请选择")
    )
    id_number = forms.CharField(
        label=_("被查看人身份证号码"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(label=_("被查看人姓名"), max_length=64)
    reason = forms.CharField(
        label=_("授权事由（法定依据）"),
        max_length=200,
        help_text=_("例如：监督检查案件编号、调查函文号"),
    )

    def __init__(self, *args: Any, department_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = (
            User.objects.filter(
                memberships__department_id__in=department_ids, memberships__is_active=True
            )
            .select_related("person")
            .distinct()
            .order_by("username")
        )
        self.fields["staff"].label_from_instance = lambda user: (
            f"{user.masked_name}（{user.get_username()}）"
        )

    def clean_id_number(self) -> str:
        return clean_id_number(self.cleaned_data["id_number"])
