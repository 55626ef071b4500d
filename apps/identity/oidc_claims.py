"""What the SSO provider says about a person (DOMAIN.md §4.6; docs/sso.md).

Pure reads: the acr vocabulary, pairwise subjects, and the claim sets of the ID token and of
userinfo. Writes (the sign-in record, audit of ID-number releases) are in ``oidc_services``.

Claims by scope (the ID token carries no personal data beyond ``sub``: it travels back through
browsers as ``id_token_hint``; names and numbers come only from userinfo, over the back channel):

===========  ==========================================================  ========  ========
scope        claims                                                      ID token  userinfo
===========  ==========================================================  ========  ========
openid       ``sub`` (pairwise), ``acr``, ``subject_type``                yes       yes
profile      ``name``, ``real_name_verified``, ``masked_phone_number``    no        yes
phone        ``phone_number``, ``phone_number_verified``                 no        yes
idcard       ``id_number``, ``id_type`` (every release audited)          no        yes
enterprise   ``enterprise`` {uscc, name, capacity, authorisation}        yes       yes
staff        ``staff_roles`` [{department, role, hall, window}]          yes       yes
===========  ==========================================================  ========  ========
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.identity.constants import AssuranceLevel, OidcScope, SubjectType
from apps.identity.models import (
    AgentAuthorisation,
    Enterprise,
    Person,
    RelyingParty,
    StaffMembership,
    User,
)
from apps.identity.oidc_models import ActingCapacity, SsoSignIn
from apps.identity.selectors import active_authorisation, enterprise_capacity

# --- acr: the real-name assurance level (DOMAIN.md §4.2) ------------------------------------

ACR_PREFIX = "urn:govportal:loa:"
ACR_VALUES_SUPPORTED = [f"{ACR_PREFIX}{level}" for level in AssuranceLevel.values]


def acr_for_level(level: int) -> str:
    return f"{ACR_PREFIX}{int(level)}"


def level_for_acr(value: str) -> int | None:
    """The level named by an acr value, or ``None`` for a value this provider does not issue."""
    if not value.startswith(ACR_PREFIX):
        return None
    suffix = value[len(ACR_PREFIX) :]
    if not suffix.isdigit() or int(suffix) not in AssuranceLevel.values:
        return None
    return int(suffix)


def _lowest_level(values: Iterable[str]) -> int | None:
    levels = [level for level in map(level_for_acr, values) if level is not None]
    return min(levels) if levels else None


def _essential_acr_values(claims: Any) -> list[str]:
    """acr values from the ``claims`` request parameter, when the RP marked ``acr`` essential."""
    if isinstance(claims, str):
        try:
            claims = json.loads(claims) if claims else {}
        except ValueError:
            return []
    if not isinstance(claims, Mapping):
        return []
    request = claims.get("id_token")
    acr = request.get("acr") if isinstance(request, Mapping) else None
    if not isinstance(acr, Mapping) or not acr.get("essential"):
        return []
    values = acr.get("values") or ([acr["value"]] if "value" in acr else [])
    return [str(value) for value in values if isinstance(value, str)]


def required_level(acr_values: str | None, claims: Any = None) -> int | None:
    """The lowest assurance level that satisfies the request, or ``None`` if none was asked.

    Levels are ordered, so a person at L3 satisfies ``urn:govportal:loa:2``; when several
    values are listed, any of them is acceptable, so the lowest known one counts. Values this
    provider does not issue are ignored (OIDC Core §3.1.2.1: acr_values is a voluntary request
    unless the ``claims`` parameter marks ``acr`` essential — those are honoured the same way).
    """
    levels = [
        level
        for level in (
            _lowest_level((acr_values or "").split()),
            _lowest_level(_essential_acr_values(claims)),
        )
        if level is not None
    ]
    return max(levels) if levels else None


# --- pairwise subject (OIDC Core §8.1) -------------------------------------------------------


def pairwise_subject(user_id: int, sector: str) -> str:
    """HMAC-SHA256(PII_INDEX_KEY, sector + user id), hex: stable per (person, sector), and two
    sectors cannot correlate their users without the key."""
    key = settings.PII_INDEX_KEY.encode("utf-8")
    message = f"oidc-sub:{sector}:{user_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def subject_for(user: User, relying_party: RelyingParty) -> str:
    return pairwise_subject(user.pk, relying_party.sector)


# --- who the person acts as -------------------------------------------------------------------


@dataclass(frozen=True)
class Acting:
    """The enterprise a person acts for in a sign-in, checked at the moment of release."""

    enterprise: Enterprise
    capacity: str
    authorisation: AgentAuthorisation | None

    def claim(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "uscc": self.enterprise.uscc,
            "name": self.enterprise.name,
            "capacity": self.capacity,
        }
        if self.authorisation is not None:
            data["authorisation"] = {
                "scope": self.authorisation.scope,
                "item_codes": list(self.authorisation.item_codes),
                "expires_at": int(self.authorisation.expires_at.timestamp()),
            }
        return data


def acting_capacity(user: User, enterprise: Enterprise) -> Acting | None:
    """How ``user`` may act for ``enterprise`` now: legal representative, licence administrator
    or agent under an active authorisation (any scope); ``None`` if not at all."""
    if not enterprise.is_active:
        return None
    capacity = enterprise_capacity(user, enterprise)
    if capacity is not None:
        return Acting(enterprise, capacity, None)
    authorisation = active_authorisation(user, enterprise)
    if authorisation is None:
        return None
    return Acting(enterprise, ActingCapacity.AGENT, authorisation)


def current_acting(sign_in: SsoSignIn | None) -> Acting | None:
    """The sign-in's enterprise context if it still holds (a revoked or expired authorisation,
    or a cancelled enterprise, drops it from later releases)."""
    if sign_in is None or sign_in.enterprise is None:
        return None
    return acting_capacity(sign_in.user, sign_in.enterprise)


def staff_roles(user: User, relying_party: RelyingParty) -> list[dict[str, Any]]:
    """Active memberships in the relying party's department (all departments for a platform-
    wide system without one). A system learns nothing of roles in other departments."""
    memberships = StaffMembership.objects.filter(user=user, is_active=True).select_related(
        "department", "hall", "window"
    )
    if relying_party.department_id is not None:
        memberships = memberships.filter(department_id=relying_party.department_id)
    return [
        {
            "department": m.department.name,
            "department_uscc": m.department.uscc,
            "role": m.role,
            "role_name": str(m.get_role_display()),
            "hall": m.hall.code if m.hall else None,
            "window": m.window.number if m.window else None,
        }
        for m in memberships.order_by("department__name", "role")
    ]


# --- claim sets --------------------------------------------------------------------------------


@dataclass
class ClaimSet:
    claims: dict[str, Any]
    id_number_released: bool = False


def _person(user: User) -> Person | None:
    try:
        return user.person
    except Person.DoesNotExist:
        return None


def build_claims(
    *,
    user: User,
    relying_party: RelyingParty,
    scopes: Iterable[str],
    sign_in: SsoSignIn | None,
    for_userinfo: bool,
) -> ClaimSet:
    """The claims released to ``relying_party`` for ``scopes`` (see the module table).

    ``scopes`` are the token's scopes; they were bounded by the relying party's allowed scopes
    when the token was issued, and are bounded again here, so narrowing a relying party's
    scopes takes effect for tokens already issued.
    """
    granted = set(scopes) & relying_party.scopes
    level = sign_in.acr_level if sign_in is not None else user.assurance_level
    acting = current_acting(sign_in) if OidcScope.ENTERPRISE in granted else None
    roles = staff_roles(user, relying_party) if OidcScope.STAFF in granted else []
    if acting is not None:
        subject_type = SubjectType.ENTERPRISE
    elif roles:
        subject_type = SubjectType.STAFF
    else:
        subject_type = SubjectType.PERSON
    claims: dict[str, Any] = {
        "sub": subject_for(user, relying_party),
        "acr": acr_for_level(level),
        "subject_type": str(subject_type),
    }
    if acting is not None:
        claims["enterprise"] = acting.claim()
    if OidcScope.STAFF in granted:
        claims["staff_roles"] = roles
    if not for_userinfo:
        return ClaimSet(claims)

    person = _person(user)
    if OidcScope.PROFILE in granted:
        claims["name"] = person.name if person is not None and person.name else ""
        claims["real_name_verified"] = bool(person and person.is_real_name_verified)
        claims["masked_phone_number"] = person.masked_phone if person is not None else ""
    if OidcScope.PHONE in granted and person is not None and person.phone:
        claims["phone_number"] = person.phone
        # Accounts are registered by SMS code (L1, DOMAIN.md §4.2).
        claims["phone_number_verified"] = True
    released = False
    if (
        OidcScope.IDCARD in granted
        and relying_party.id_number_legal_basis.strip()
        and person is not None
        and person.is_real_name_verified
        and person.id_number
    ):
        claims["id_number"] = person.id_number
        claims["id_type"] = person.id_type
        released = True
    return ClaimSet(claims, id_number_released=released)


DISCOVERY_CLAIMS = [
    "sub",
    "acr",
    "auth_time",
    "subject_type",
    "name",
    "real_name_verified",
    "masked_phone_number",
    "phone_number",
    "phone_number_verified",
    "id_number",
    "id_type",
    "enterprise",
    "staff_roles",
]
