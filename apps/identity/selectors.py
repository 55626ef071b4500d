"""Reads about "who is this and what may they do" shared by views, the API and other apps."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from apps.identity import principal
from apps.identity.constants import AuthorisationScope, EnterpriseRoleKind, EnterpriseStatus
from apps.identity.models import (
    AgentAuthorisation,
    AssuranceRaise,
    Enterprise,
    EnterpriseRole,
    Person,
    PopulationRecord,
    User,
)
from apps.identity.pii import id_number_index, phone_index

# Cached with the session's user (one cache round trip, no query): ``principal``.
active_posts = principal.active_posts
represented_enterprise_ids = principal.represented_enterprise_ids


def _codes(item_code: str | Iterable[str] | None) -> list[str]:
    if item_code is None:
        return []
    if isinstance(item_code, str):
        return [item_code]
    return [code for code in item_code if code]


def active_authorisation(
    user: User,
    enterprise: Enterprise | int,
    item_code: str | Iterable[str] | None = None,
    *,
    at: datetime | None = None,
) -> AgentAuthorisation | None:
    """The authorisation under which ``user`` may act for ``enterprise`` now, or ``None``.

    ``item_code`` is the item's implementation code, or several codes (implementation and
    basic code): an item-level authorisation applies when it lists any of them. Without
    ``item_code`` any active authorisation counts. An all-business authorisation is preferred,
    then the one expiring last. The enterprise must be 存续. This looks at agent authorisations
    only: the legal representative and licence administrators act without one (see
    ``can_act_for``).
    """
    enterprise_id = enterprise.pk if isinstance(enterprise, Enterprise) else enterprise
    moment = at or timezone.now()
    candidates = (
        AgentAuthorisation.objects.active(moment)
        .filter(agent=user, enterprise_id=enterprise_id, enterprise__status=EnterpriseStatus.ACTIVE)
        .select_related("enterprise")
        .order_by("-expires_at")
    )
    codes = _codes(item_code)
    best: AgentAuthorisation | None = None
    for authorisation in candidates:
        if codes and not authorisation.covers(codes):
            continue
        if authorisation.scope == AuthorisationScope.ALL:
            return authorisation
        best = best or authorisation
    return best


def enterprise_capacity(user: User, enterprise: Enterprise) -> str | None:
    """``"legal_rep"``, ``"licence_admin"`` or ``None`` (agents are checked separately)."""
    if enterprise.legal_representative_id == user.pk:
        return "legal_rep"
    if EnterpriseRole.objects.filter(
        enterprise=enterprise,
        user=user,
        role=EnterpriseRoleKind.LICENCE_ADMIN,
        revoked_at__isnull=True,
    ).exists():
        return "licence_admin"
    return None


def can_manage_agents(user: User, enterprise: Enterprise) -> bool:
    return enterprise_capacity(user, enterprise) is not None


def can_act_for(
    user: User, enterprise: Enterprise, item_code: str | Iterable[str] | None = None
) -> bool:
    """Whether ``user`` may apply for ``enterprise`` (for ``item_code`` when given)."""
    if not enterprise.is_active or not getattr(user, "is_authenticated", False):
        return False
    if enterprise_capacity(user, enterprise) is not None:
        return True
    return active_authorisation(user, enterprise, item_code) is not None


def acting_enterprises(user: User) -> QuerySet[Enterprise]:
    """Enterprises (存续) ``user`` may act for now: as legal representative, as licence
    administrator, or under an active agent authorisation of any scope."""
    if not getattr(user, "is_authenticated", False):
        return Enterprise.objects.none()
    now = timezone.now()
    return (
        Enterprise.objects.filter(status=EnterpriseStatus.ACTIVE)
        .filter(
            Q(legal_representative=user)
            | Q(
                roles__user=user,
                roles__role=EnterpriseRoleKind.LICENCE_ADMIN,
                roles__revoked_at__isnull=True,
            )
            | Q(
                authorisations__agent=user,
                authorisations__revoked_at__isnull=True,
                authorisations__valid_from__lte=now,
                authorisations__expires_at__gt=now,
            )
        )
        .distinct()
        .order_by("name")
    )


def list_authorisations_for_enterprise(
    enterprise: Enterprise, *, include_inactive: bool = True
) -> QuerySet[AgentAuthorisation]:
    qs = AgentAuthorisation.objects.filter(enterprise=enterprise).select_related(
        "agent__person", "granted_by__person", "enterprise"
    )
    if not include_inactive:
        qs = qs.active()
    return qs.order_by("-created_at")


def list_authorisations_held_by(user: User) -> QuerySet[AgentAuthorisation]:
    """Authorisations ``user`` holds as an agent, newest first."""
    return (
        AgentAuthorisation.objects.filter(agent=user)
        .select_related("enterprise", "granted_by__person")
        .order_by("-created_at")
    )


def managed_enterprises(user: User) -> QuerySet[Enterprise]:
    """Enterprises whose agents ``user`` may manage (legal representative or licence admin)."""
    return (
        Enterprise.objects.filter(
            Q(legal_representative=user)
            | Q(
                roles__user=user,
                roles__role=EnterpriseRoleKind.LICENCE_ADMIN,
                roles__revoked_at__isnull=True,
            )
        )
        .distinct()
        .order_by("name")
    )


def get_managed_enterprise_for(user: User, enterprise_id: int) -> Enterprise:
    """An enterprise ``user`` manages; ``Enterprise.DoesNotExist`` for any other (STYLE.md R1)."""
    return managed_enterprises(user).get(pk=enterprise_id)


def get_represented_enterprise_for(user: User, enterprise_id: int) -> Enterprise:
    """An enterprise whose legal representative is ``user``; ``DoesNotExist`` for any other."""
    return Enterprise.objects.get(pk=enterprise_id, legal_representative=user)


def get_licence_admin_role_for(user: User, role_id: int) -> EnterpriseRole:
    """A licence administrator role of an enterprise ``user`` represents; ``DoesNotExist``
    for any other."""
    return EnterpriseRole.objects.select_related("enterprise").get(
        pk=role_id,
        role=EnterpriseRoleKind.LICENCE_ADMIN,
        enterprise__legal_representative=user,
    )


def find_verified_user(*, phone: str = "", id_number: str = "", name: str = "") -> User | None:
    """A real-name verified account by mobile number, or by ID number + name."""
    if phone:
        return find_verified_person_by_phone(phone)
    return find_verified_person(id_number=id_number, name=name)


def get_managed_authorisation_for(user: User, authorisation_id: int) -> AgentAuthorisation:
    """An authorisation of an enterprise ``user`` manages; ``DoesNotExist`` for any other."""
    return AgentAuthorisation.objects.get(
        pk=authorisation_id, enterprise__in=managed_enterprises(user).values("pk")
    )


def find_verified_person(*, id_number: str, name: str) -> User | None:
    """The real-name verified account with exactly this ID number and name (for granting an
    agent without exposing who has an account)."""
    person = (
        Person.objects.select_related("user")
        .filter(id_number_index=id_number_index(id_number), name=name.strip())
        .first()
    )
    if person is None or not person.is_real_name_verified or not person.user.is_active:
        return None
    return person.user


def get_person(user: User) -> Person | None:
    """The real-name profile of ``user`` (``None`` for accounts created without one)."""
    return Person.objects.filter(user=user).first()


def household_region(user: User) -> str:
    """The region code (GB/T 2260) of the person's household registration in the population
    registry (人口库), or "" when the account has no real-name profile found there. One query."""
    index = Person.objects.filter(user=user).exclude(id_number_index="").values("id_number_index")
    region = (
        PopulationRecord.objects.filter(id_number_index__in=index)
        .values_list("household_region", flat=True)
        .first()
    )
    return region or ""


def find_verified_person_by_phone(phone: str) -> User | None:
    """The real-name verified, active account registered with this mobile number."""
    person = Person.objects.select_related("user").filter(phone_index=phone_index(phone)).first()
    if person is None or not person.is_real_name_verified or not person.user.is_active:
        return None
    return person.user


def level_history(person: Person) -> QuerySet[AssuranceRaise]:
    """Every raise of ``person``'s level, oldest first (method, time, clerk)."""
    return person.level_raises.select_related("raised_by").order_by("created_at")


def managed_enterprises_with_authorisations(user: User) -> list[Enterprise]:
    """``managed_enterprises`` with every authorisation granted for each (newest first) in
    ``enterprise.all_authorisations``, the active licence administrators in
    ``enterprise.licence_admins`` and ``enterprise.capacity`` set: three queries."""
    enterprises = list(
        managed_enterprises(user).prefetch_related(
            Prefetch(
                "authorisations",
                queryset=AgentAuthorisation.objects.select_related("agent__person").order_by(
                    "-created_at"
                ),
                to_attr="all_authorisations",
            ),
            Prefetch(
                "roles",
                queryset=EnterpriseRole.objects.filter(
                    role=EnterpriseRoleKind.LICENCE_ADMIN, revoked_at__isnull=True
                )
                .select_related("user__person")
                .order_by("created_at"),
                to_attr="licence_admins",
            ),
        )
    )
    for enterprise in enterprises:
        enterprise.capacity = (  # type: ignore[attr-defined]
            "legal_rep" if enterprise.legal_representative_id == user.pk else "licence_admin"
        )
    return enterprises


def administered_department_ids(user: User) -> list[int]:
    """Departments in which ``user`` holds an active department-administrator membership."""
    from apps.identity.constants import StaffRole

    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        user.memberships.filter(role=StaffRole.DEPT_ADMIN, is_active=True)
        .order_by("department_id")
        .values_list("department_id", flat=True)
    )


def reveal_grants_in_departments(department_ids: list[int]) -> list[dict]:
    """The per-object reveal grants (django-guardian) held by staff of ``department_ids``:
    ``{"id", "staff", "department_id", "person"}`` rows, three queries."""
    from guardian.models import UserObjectPermission

    from apps.identity.models import StaffMembership

    staff_departments: dict[int, int] = {}
    for user_id, department_id in StaffMembership.objects.filter(
        department_id__in=department_ids
    ).values_list("user_id", "department_id"):
        staff_departments.setdefault(user_id, department_id)
    grants = list(
        UserObjectPermission.objects.filter(
            user_id__in=list(staff_departments),
            permission__codename="reveal_id_number",
            content_type__app_label="identity",
        )
        .select_related("user")
        .order_by("id")
    )
    people = Person.objects.select_related("user").in_bulk(
        [int(grant.object_pk) for grant in grants]
    )
    return [
        {
            "id": grant.pk,
            "staff": grant.user,
            "department_id": staff_departments[grant.user_id],
            "person": people[int(grant.object_pk)],
        }
        for grant in grants
        if int(grant.object_pk) in people
    ]


def has_claimed_walk_in_record(user: User) -> bool:
    """Whether ``user`` claimed the record a window clerk made for them (their walk-in cases
    were moved to the account when they verified the same ID number)."""
    from apps.identity.models import WalkInPerson

    return WalkInPerson.objects.filter(claimed_by=user).exists()
