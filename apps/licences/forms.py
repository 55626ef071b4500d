"""Forms of the wallet pages."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import Department
from apps.licences.models import LicenceType


class AuthorisationForm(forms.Form):
    """The holder lets a department read one licence or licences of one type until a date."""

    department = forms.ModelChoiceField(
        label=_("被授权部门"), queryset=Department.objects.order_by("name")
    )
    licence = forms.ChoiceField(label=_("授权的证照"), required=False)
    licence_type = forms.ModelChoiceField(
        label=_("或：授权的证照类型"),
        queryset=LicenceType.objects.filter(is_active=True).order_by("name"),
        required=False,
    )
    purpose = forms.CharField(label=_("用途"), max_length=200)
    expires_on = forms.DateField(
        label=_("授权截止日期"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, licences: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._licences = {str(lic.pk): lic for lic in licences}
        self.fields["licence"].choices = [("", "—")] + [
            (str(lic.pk), f"{lic.name}（{lic.number}）") for lic in licences
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["licence"] = self._licences.get(data.get("licence") or "")
        if data["licence"] is None and not data.get("licence_type"):
            self.add_error(None, _("请选择授权的证照或证照类型"))
        day = data.get("expires_on")
        if day is not None:
            if day <= timezone.localdate():
                self.add_error("expires_on", _("授权截止日期应晚于今天"))
            elif day > timezone.localdate() + timedelta(days=366):
                self.add_error("expires_on", _("授权期限不超过一年"))
            else:
                data["expires_at"] = timezone.make_aware(datetime.combine(day, time.max))
        return data
