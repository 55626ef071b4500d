"""The OIDC provider's validator (django-oauth-toolkit ``OAUTH2_VALIDATOR_CLASS``).

What it adds to DOT's validator:

- which client may use which flow: relying parties (``RelyingParty``) the authorization code
  (with PKCE, required in settings) and refresh tokens; department API clients (``ApiClient``)
  client credentials only; inactive or unregistered applications nothing;
- the sign-in record (``SsoSignIn``) written with the authorization code, carried to the
  access token, and used for ``acr``, ``auth_time`` and the enterprise context;
- the claims (``oidc_claims.build_claims``): pairwise ``sub``, ``acr``, scoped claims, and an
  audit event for every release of a full ID number.
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any

from oauthlib.oauth2.rfc6749 import errors

from django.db import transaction
from oauth2_provider.models import AccessToken
from oauth2_provider.oauth2_validators import OAuth2Validator

from apps.core.exceptions import DomainError
from apps.identity.models import RelyingParty
from apps.identity.oidc_claims import DISCOVERY_CLAIMS, build_claims
from apps.identity.oidc_models import SsoSignIn
from apps.identity.oidc_services import (
    attach_access_token,
    record_id_number_release,
    record_sso_consent,
)
from apps.identity.scopes import granted_scopes

logger = logging.getLogger(__name__)


def _relying_party(application: Any) -> RelyingParty | None:
    relying_party = getattr(application, "relying_party", None)
    if relying_party is None or not relying_party.is_active:
        return None
    return relying_party


def _is_api_client(application: Any) -> bool:
    client = getattr(application, "api_client", None)
    return client is not None and client.is_active


class GovportalOAuth2Validator(OAuth2Validator):
    # Claims are filtered by scope in oidc_claims.build_claims, not by DOT's mapping.
    oidc_claim_scope = None

    # --- which client may use which flow ------------------------------------------------------

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if not super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs):
            return False
        if grant_type == "client_credentials":
            return _is_api_client(client)
        if grant_type in ("authorization_code", "refresh_token"):
            return _relying_party(client) is not None
        return False

    def validate_response_type(
        self,
        client_id: str,
        response_type: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return (
            response_type == "code"
            and _relying_party(client) is not None
            and super().validate_response_type(
                client_id, response_type, client, request, *args, **kwargs
            )
        )

    def validate_bearer_token(self, token: str, scopes: list[str], request: Any) -> bool:
        """A token stops working as soon as its client is deactivated."""
        if not super().validate_bearer_token(token, scopes, request):
            return False
        return bool(granted_scopes(request.client))

    # prompt=none (OIDC Core §3.1.2.1): the person is signed in (the view requires it), but
    # consent is asked every time, so a silent request gets ``consent_required``.
    def validate_silent_login(self, request: Any) -> bool:
        return True

    def validate_silent_authorization(self, request: Any) -> bool:
        return False

    # --- the sign-in record ------------------------------------------------------------------

    def save_authorization_code(
        self, client_id: str, code: dict[str, str], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        # The consent view passes the chosen enterprise in the credentials, which oauthlib
        # copies onto its request.
        enterprise_id = getattr(request, "acting_enterprise_id", None)
        try:
            with transaction.atomic():
                grant = self._create_authorization_code(request, code)
                record_sso_consent(grant=grant, enterprise_id=enterprise_id)
        except DomainError as exc:
            raise errors.AccessDeniedError(description=exc.code, request=request) from exc

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        request.sso_sign_in = (
            SsoSignIn.objects.select_related("user", "enterprise")
            .filter(grant__code=code, application=client)
            .first()
        )
        return True

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        # Read before DOT revokes the old access token (which unlinks the sign-in).
        previous = request.refresh_token_instance
        request.sso_sign_in = (
            SsoSignIn.objects.select_related("user", "enterprise")
            .filter(access_token_id=previous.access_token_id)
            .first()
            if previous.access_token_id
            else None
        )
        return True

    def _create_access_token(
        self, expires: Any, request: Any, token: dict[str, Any], source_refresh_token: Any = None
    ) -> AccessToken:
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        sign_in = getattr(request, "sso_sign_in", None)
        if sign_in is not None:
            attach_access_token(sign_in=sign_in, access_token=access_token)
        return access_token

    # --- claims ----------------------------------------------------------------------------

    def get_discovery_claims(self, request: Any) -> list[str]:
        return list(DISCOVERY_CLAIMS)

    def get_oidc_claims(self, token: Any, token_handler: Any, request: Any) -> dict[str, Any]:
        """The ID token's claims (DOT adds iss, exp, auth_time, jti; oauthlib aud, iat, nonce)."""
        relying_party = _relying_party(request.client)
        if relying_party is None:  # deactivated between validation and now
            raise errors.UnauthorizedClientError(request=request)
        return build_claims(
            user=request.user,
            relying_party=relying_party,
            scopes=request.scopes,
            sign_in=getattr(request, "sso_sign_in", None),
            for_userinfo=False,
        ).claims

    def get_id_token_dictionary(
        self, token: Any, token_handler: Any, request: Any
    ) -> tuple[dict[str, Any], Any]:
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        sign_in = getattr(request, "sso_sign_in", None)
        if sign_in is not None:
            # auth_time is when the person authenticated, not when the code was exchanged.
            claims["auth_time"] = int(sign_in.auth_time.astimezone(UTC).timestamp())
        return claims, expiration_time

    def get_userinfo_claims(self, request: Any) -> dict[str, Any]:
        relying_party = _relying_party(request.client)
        if relying_party is None:
            raise errors.InvalidTokenError(request=request)
        access_token = request.access_token
        sign_in = (
            SsoSignIn.objects.select_related("user", "enterprise")
            .filter(access_token=access_token)
            .first()
        )
        claim_set = build_claims(
            user=request.user,
            relying_party=relying_party,
            scopes=access_token.scope.split(),
            sign_in=sign_in,
            for_userinfo=True,
        )
        if claim_set.id_number_released:
            record_id_number_release(
                user=request.user,
                relying_party=relying_party,
                subject=claim_set.claims["sub"],
                channel="userinfo",
            )
        return claim_set.claims
