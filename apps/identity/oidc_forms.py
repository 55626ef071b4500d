"""The SSO consent form: DOT's hidden authorization-request fields, plus the requested acr and
the enterprise the person chooses to act for."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from oauth2_provider.forms import AllowForm

from apps.identity.models import User
from apps.identity.oidc_claims import Acting, acting_capacity
from apps.identity.selectors import acting_enterprises


def acting_options(user: User) -> list[Acting]:
    """The enterprises ``user`` may act for now, each with the capacity (and authorisation)."""
    options = [acting_capacity(user, enterprise) for enterprise in acting_enterprises(user)]
    return [option for option in options if option is not None]


class SsoConsentForm(AllowForm):
    acr_values = forms.CharField(required=False, widget=forms.HiddenInput())
    acting_enterprise = forms.TypedChoiceField(
        label=_("以何种身份登录"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options = acting_options(user) if user.is_authenticated else []
        self.fields["acting_enterprise"].choices = [("", _("以本人身份办事"))] + [
            (option.enterprise.pk, option.enterprise.name) for option in self.options
        ]
        self.fields["acting_enterprise"].error_messages["invalid_choice"] = _(
            "您当前不能代表所选企业办事，请重新选择"
        )
