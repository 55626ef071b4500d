"""Office forms: a department's endpoint configuration and a new signing key (input only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from apps.handoffs.constants import DeliveryMode


class EndpointForm(forms.Form):
    mode = forms.ChoiceField(label=_("接收方式"), choices=DeliveryMode.choices)
    push_url = forms.URLField(
        label=_("推送地址"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("推送方式必填，例如 https://dept.example.gov.cn/govportal/handoffs"),
    )
    timeout_seconds = forms.IntegerField(
        label=_("超时（秒）"), min_value=1, max_value=30, initial=10
    )
    max_attempts = forms.IntegerField(
        label=_("最大投递次数"),
        min_value=1,
        max_value=50,
        initial=10,
        help_text=_("超过后转入死信，由管理员重试或改派"),
    )
    replay_window_seconds = forms.IntegerField(
        label=_("防重放时间窗（秒）"), min_value=30, max_value=3600, initial=300
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("mode") == DeliveryMode.PUSH and not data.get("push_url"):
            self.add_error("push_url", _("推送方式必须填写推送地址"))
        return data


class SigningKeyForm(forms.Form):
    key_id = forms.CharField(
        label=_("新密钥编号"),
        max_length=32,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", _("密钥编号只能包含字母、数字、-、_"))],
    )


class RerouteForm(forms.Form):
    target_department = forms.IntegerField(label=_("改派至部门"), min_value=1)
