"""SSO pages and endpoints (docs/sso.md): the consent page, the step-up page, discovery.

The consent page is django-oauth-toolkit's authorization view with our form and template. It
adds two things: the requested acr (``acr_values``) is honoured before consent is asked, and the
person may choose an enterprise to act for, which travels to the authorization code through the
oauthlib credentials (see ``GovportalOAuth2Validator.save_authorization_code``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from oauthlib.common import add_params_to_uri
from oauthlib.oauth2.rfc6749.errors import InvalidRequestError

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import Application
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView, ConnectDiscoveryInfoView

from apps.identity.constants import OidcScope
from apps.identity.models import RelyingParty
from apps.identity.oidc_claims import ACR_VALUES_SUPPORTED, required_level
from apps.identity.oidc_forms import SsoConsentForm

UNMET = "unmet_authentication_requirements"


def _profile_url(next_url: str, *, current: int = 1, required: int = 2) -> str:
    """Where the level is raised, returning to ``next_url`` afterwards: the L3 page for an L2
    person asked for L3, else the profile page (L2 check; L4 is explained there and done at a
    window)."""
    name = "identity:level3" if current >= 2 and required == 3 else "identity:profile"
    try:
        base = reverse(name)
    except NoReverseMatch:
        base = "/accounts/profile/"
    return f"{base}?{urlencode({'next': next_url})}"


class StepUpRequired(Exception):
    """The person's level is below the requested acr: offer to raise it, or to go back to the
    relying party with ``unmet_authentication_requirements`` (OpenID Connect Core Unmet
    Authentication Requirements 1.0)."""

    def __init__(self, required: int, redirect_uri: str, state: str | None) -> None:
        super().__init__(required)
        self.required = required
        self.redirect_uri = redirect_uri
        self.state = state


class SsoAuthorizationView(AuthorizationView):
    """``/o/authorize/``: authorization code + PKCE only (settings), consent every time."""

    template_name = "identity/oidc/authorize.html"
    form_class = SsoConsentForm

    # --- GET: validate, honour acr_values, show consent -----------------------------------

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "approval_prompt" in request.GET:
            # DOT lets the client ask to skip consent (approval_prompt=auto) when an earlier
            # token had the same scopes; the person chooses whom they act for at every sign-in,
            # so consent is always asked.
            request.GET = request.GET.copy()
            request.GET.pop("approval_prompt")
        try:
            return super().get(request, *args, **kwargs)
        except StepUpRequired as step_up:
            return self.step_up_response(step_up)

    def validate_authorization_request(self, request: HttpRequest) -> tuple[list[str], dict]:
        scopes, credentials = super().validate_authorization_request(request)
        if credentials.get("code_challenge_method") != "S256":
            # DOT refuses "plain" only when the code is issued; refuse before asking consent.
            raise OAuthToolkitError(
                error=InvalidRequestError(
                    description="code_challenge_method must be S256", state=credentials["state"]
                ),
                redirect_uri=credentials["redirect_uri"],
            )
        required = required_level(request.GET.get("acr_values"), credentials.get("claims"))
        if required is not None and request.user.assurance_level < required:
            # The redirect URI was validated above, so offering the way back is safe. (A
            # prompt=none request never gets here: consent is always asked, so oauthlib has
            # already answered consent_required.)
            raise StepUpRequired(required, credentials["redirect_uri"], credentials["state"])
        return scopes, credentials

    def step_up_response(self, step_up: StepUpRequired) -> HttpResponse:
        decline_url = add_params_to_uri(
            step_up.redirect_uri,
            [
                ("error", UNMET),
                ("error_description", f"assurance level L{step_up.required} required"),
                *([("state", step_up.state)] if step_up.state else []),
                ("iss", oauth2_settings.oidc_issuer(self.request)),
            ],
        )
        return render(
            self.request,
            "identity/oidc/step_up.html",
            {
                "required": step_up.required,
                "current": self.request.user.assurance_level,
                "profile_url": _profile_url(
                    self.request.get_full_path(),
                    current=self.request.user.assurance_level,
                    required=step_up.required,
                ),
                "decline_url": decline_url,
            },
            status=403,
        )

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        initial = super().get_initial()
        initial["acr_values"] = self.request.GET.get("acr_values", "")
        return initial

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context.get("form")
        application = context.get("application")
        scopes = context.get("scopes")
        if form is not None and form.is_bound:  # a re-displayed POST
            application = application or (
                Application.objects.filter(client_id=form.data.get("client_id", "")).first()
            )
            scopes = scopes or (form.data.get("scope") or "").split()
        relying_party = (
            RelyingParty.objects.select_related("department")
            .filter(application=application)
            .first()
            if application is not None
            else None
        )
        scopes = scopes or []
        context.update(
            application=application,
            relying_party=relying_party,
            scope_items=[(s, OidcScope(s).label) for s in scopes if s in OidcScope.values],
            wants_enterprise=OidcScope.ENTERPRISE in scopes,
            wants_id_number=OidcScope.IDCARD in scopes,
        )
        return context

    # --- POST: consent ------------------------------------------------------------------------

    def form_valid(self, form: SsoConsentForm) -> HttpResponse:
        data = form.cleaned_data
        required = required_level(data.get("acr_values"), data.get("claims"))
        if (
            data.get("allow")
            and required is not None
            and self.request.user.assurance_level < required
        ):
            application = Application.objects.filter(client_id=data["client_id"]).first()
            redirect_uri = data["redirect_uri"]
            if application is None or not application.redirect_uri_allowed(redirect_uri):
                return self.form_invalid(form)
            return self.step_up_response(StepUpRequired(required, redirect_uri, data.get("state")))
        scopes = (data.get("scope") or "").split()
        self.acting_enterprise_id = (
            data.get("acting_enterprise")
            if data.get("allow") and OidcScope.ENTERPRISE in scopes
            else None
        )
        return super().form_valid(form)

    def create_authorization_response(
        self, request: HttpRequest, scopes: str, credentials: dict[str, Any], allow: bool
    ) -> tuple[str, dict, str, int]:
        enterprise_id = getattr(self, "acting_enterprise_id", None)
        if enterprise_id is not None:
            credentials = {**credentials, "acting_enterprise_id": enterprise_id}
        return super().create_authorization_response(request, scopes, credentials, allow)


class SsoDiscoveryView(ConnectDiscoveryInfoView):
    """``/.well-known/openid-configuration`` at the site root (ARCHITECTURE.md contract)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        if response.status_code != 200:
            return response
        data = json.loads(response.content)
        data["claims_supported"] = sorted(data["claims_supported"])
        data.update(
            {
                # Department API clients use the same token endpoint (client credentials).
                "grant_types_supported": [
                    "authorization_code",
                    "refresh_token",
                    "client_credentials",
                ],
                "id_token_signing_alg_values_supported": ["RS256"],
                "acr_values_supported": ACR_VALUES_SUPPORTED,
                "claims_parameter_supported": True,
                "request_parameter_supported": False,
                "request_uri_parameter_supported": False,
                "ui_locales_supported": ["zh-CN", "en"],
            }
        )
        discovery = JsonResponse(data)
        discovery["Access-Control-Allow-Origin"] = "*"
        return discovery
