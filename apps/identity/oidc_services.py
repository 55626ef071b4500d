"""Writes of the SSO provider: the sign-in record made at consent, and the audit of every
release of a full ID number (DOMAIN.md §4.6, 个人信息保护法 Art. 13/35).

These run inside django-oauth-toolkit's request handling (the validator calls them), which
may already hold a transaction, so they use a plain ``atomic`` rather than a durable one.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import AccessToken, Grant

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.identity.constants import OidcScope
from apps.identity.models import Enterprise, RelyingParty, User
from apps.identity.oidc_claims import acr_for_level, acting_capacity
from apps.identity.oidc_models import SsoSignIn

logger = logging.getLogger(__name__)


@transaction.atomic
def record_sso_consent(*, grant: Grant, enterprise_id: int | None = None) -> SsoSignIn:
    """Record what the person agreed to when the authorization code was issued.

    ``enterprise_id`` is the enterprise chosen on the consent page; it must be one the person
    may act for now (checked again here, not only in the form) and needs the ``enterprise``
    scope. The assurance level and authentication time are frozen: they are what every token
    from this consent reports as ``acr`` and ``auth_time``. Audited.
    """
    user = grant.user
    acting = None
    if enterprise_id is not None:
        if OidcScope.ENTERPRISE not in grant.scope.split():
            raise DomainError(_("该系统未获准获取企业身份"), code="enterprise_scope_missing")
        enterprise = Enterprise.objects.filter(pk=enterprise_id).first()
        acting = acting_capacity(user, enterprise) if enterprise is not None else None
        if acting is None:
            raise DomainError(_("您当前不能代表该企业办事"), code="not_acting_for_enterprise")
    sign_in = SsoSignIn.objects.create(
        application=grant.application,
        user=user,
        scope=grant.scope,
        acr_level=user.assurance_level,
        auth_time=user.last_login or timezone.now(),
        enterprise=acting.enterprise if acting else None,
        capacity=acting.capacity if acting else "",
        authorisation=acting.authorisation if acting else None,
        grant=grant,
    )
    record_audit_event(
        actor=user,
        action="identity.sso_consented",
        obj=sign_in,
        data={
            "client_id": grant.application.client_id,
            "scope": grant.scope,
            "acr": acr_for_level(sign_in.acr_level),
            "enterprise": acting.enterprise.uscc if acting else None,
            "capacity": sign_in.capacity,
            "authorisation_id": sign_in.authorisation_id,
        },
    )
    return sign_in


def attach_access_token(*, sign_in: SsoSignIn, access_token: AccessToken) -> None:
    """Point the sign-in at the token just issued from it (code exchange or refresh)."""
    SsoSignIn.objects.filter(pk=sign_in.pk).update(
        access_token=access_token, updated_at=timezone.now()
    )


@transaction.atomic
def record_id_number_release(
    *, user: User, relying_party: RelyingParty, subject: str, channel: str
) -> None:
    """Audit one release of ``user``'s full ID number to ``relying_party`` (no number in the
    event: who received it, under which legal basis, through which channel)."""
    record_audit_event(
        actor=None,
        action="identity.oidc_id_number_released",
        obj=user,
        data={
            "client_id": relying_party.application.client_id,
            "department_id": relying_party.department_id,
            "legal_basis": relying_party.id_number_legal_basis,
            "sub": subject,
            "channel": channel,
        },
    )
    logger.info(
        "oidc.id_number_released",
        extra={"client_id": relying_party.application.client_id, "channel": channel},
    )
