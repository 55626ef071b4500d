"""Who may do what: predicates shared by DRF permission classes and HTML views (STYLE.md P1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import AccessToken
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.models import Department
from apps.identity.constants import StaffRole
from apps.identity.models import ApiClient, Person, ServiceCode


def has_staff_role(user: Any, department: Department | int, *roles: str) -> bool:
    """Whether ``user`` holds an active membership with one of ``roles`` in ``department``."""
    if not getattr(user, "is_authenticated", False):
        return False
    department_id = department.pk if isinstance(department, Department) else department
    return user.memberships.filter(
        department_id=department_id, role__in=roles or StaffRole.values, is_active=True
    ).exists()


# Who may identify applicants at a window (service code or ID card): the same roles that may
# accept cases (apps.cases.permissions.CLERK_ROLES).
IDENTIFY_ROLES = (StaffRole.CLERK, StaffRole.DEPT_ADMIN)


def can_identify_applicants(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.memberships.filter(role__in=IDENTIFY_ROLES, is_active=True).exists()


# --- revealing a full ID number (DOMAIN.md §4.7: unmasked reads need a permission, audited) ---

# A basis is a predicate ``(staff, subject_user) -> bool``. Identity knows two: the person is at
# this clerk's window (they showed their service code to this clerk a moment ago), and a
# per-object grant (django-guardian ``identity.reveal_id_number`` on the Person). Apps further
# down add theirs at startup: cases registers "the staff member's department or hall handles a
# case of this person" (apps/cases/apps.py), so identity never imports cases.
RevealBasis = Callable[[Any, Any], bool]
_reveal_bases: dict[str, RevealBasis] = {}


def register_reveal_basis(name: str, predicate: RevealBasis) -> None:
    _reveal_bases[name] = predicate


def _at_this_window(staff: Any, subject: Any) -> bool:
    since = timezone.now() - timedelta(minutes=settings.SERVICE_CODE_REVEAL_MINUTES)
    return ServiceCode.objects.filter(user=subject, redeemed_by=staff, used_at__gte=since).exists()


def _object_grant(staff: Any, subject: Any) -> bool:
    """An explicit per-object grant to this staff member. Read from guardian's table rather
    than ``has_perm``, which is always true for a superuser: being a superuser is no basis."""
    from guardian.models import UserObjectPermission

    person = Person.objects.filter(user=subject).only("pk").first()
    return (
        person is not None
        and UserObjectPermission.objects.filter(
            user_id=staff.pk,
            permission__codename="reveal_id_number",
            content_type__app_label="identity",
            content_type__model="person",
            object_pk=str(person.pk),
        ).exists()
    )


register_reveal_basis("window", _at_this_window)
register_reveal_basis("grant", _object_grant)


def reveal_basis(staff: Any, subject: Any) -> str | None:
    """The name of the first basis on which ``staff`` may see ``subject``'s full ID number."""
    if not getattr(staff, "is_authenticated", False) or not staff.is_active:
        return None
    if not staff.memberships.filter(is_active=True).exists():
        return None
    for name, predicate in _reveal_bases.items():
        if predicate(staff, subject):
            return name
    return None


def can_administer_department(user: Any, department: Department | int) -> bool:
    return has_staff_role(user, department, StaffRole.DEPT_ADMIN)


def request_api_client(request: Request) -> ApiClient | None:
    """The department client behind an OAuth2 client-credentials token, if any."""
    token = request.auth
    # Client credentials only: a token a person granted to a system carries that person.
    if (
        not isinstance(token, AccessToken)
        or token.application_id is None
        or token.user_id is not None
    ):
        return None
    try:
        client = token.application.api_client
    except ApiClient.DoesNotExist:
        return None
    return client if client.is_active else None


def get_client_department(request: Request) -> Department:
    client = request_api_client(request)
    assert client is not None, "use DepartmentClientPermission on the view"
    return client.department


class DepartmentClientPermission(BasePermission):
    """A department system's OAuth2 client with the scope the view declares for the method.

    Views declare ``required_scopes = {"GET": "cases:read", "POST": "cases:write"}``. The token
    must carry the scope and the client must still be allowed it (revoking a scope on the client
    takes effect for tokens already issued).
    """

    message = "该接口需要部门客户端令牌及相应权限范围"

    def has_permission(self, request: Request, view: Any) -> bool:
        client = request_api_client(request)
        if client is None:
            return False
        required = getattr(view, "required_scopes", {}).get(request.method)
        if required is None:
            return False
        token = request.auth
        assert isinstance(token, AccessToken)
        return token.allow_scopes([required]) and required in client.scopes
