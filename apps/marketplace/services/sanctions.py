"""Lifting sanctions: a sanction with a period ends by itself the day after ``ends_on`` (beat
``marketplace.lift_ended_sanctions``, nightly), or earlier by the decision of the operator or
a 行业主管部门 supervising a service the agency offers, with the reason. Lifting the last
running suspension puts the agency back into the directory; a lifted blacklisting leaves the
public blacklist, but an expelled agency stays expelled (it must apply again). The credit points
a sanction cost are history and stay (DOMAIN.md §6.2 8: yearly cycle).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.marketplace.constants import AgencyStatus, SanctionKind
from apps.marketplace.models import Agency, Sanction
from apps.marketplace.permissions import can_supervise_service, is_operator
from apps.notifications.services import notify_users


def may_decide_sanctions(user: Any, agency: Agency, api_client: Any = None) -> bool:
    """The operator, or a 行业主管部门 of a service the agency offers (one of its
    administrators or supervisors, or its system's API client)."""
    department_ids = set(agency.services.values_list("service__department_id", flat=True))
    if api_client is not None:
        return api_client.department_id in department_ids
    if is_operator(user):
        return True
    return any(can_supervise_service(user, d) for d in department_ids)


def running(day) -> Q:
    """Sanctions in force on ``day``: not lifted, and without an end or not yet ended."""
    return Q(lifted_at__isnull=True) & (Q(ends_on__isnull=True) | Q(ends_on__gte=day))


def _lift(sanction: Sanction, *, actor: Any, reason: str, api_client: Any = None) -> Sanction:
    """In the caller's transaction, with the sanction and its agency locked."""
    agency = sanction.agency
    sanction.lifted_at = timezone.now()
    sanction.lifted_by = actor
    sanction.lift_reason = reason[:300]
    sanction.save(update_fields=["lifted_at", "lifted_by", "lift_reason", "updated_at"])
    restored = False
    if (
        agency.status == AgencyStatus.SUSPENDED
        and not agency.sanctions.filter(running(timezone.localdate()), kind=SanctionKind.SUSPENSION)
        .exclude(pk=sanction.pk)
        .exists()
    ):
        agency.status = AgencyStatus.LISTED
        agency.save(update_fields=["status", "updated_at"])
        restored = True
    notify_users(
        recipients=[agency.submitted_by_id],
        key=f"marketplace.sanction_lifted:{sanction.pk}",
        kind="marketplace.sanction_lifted",
        title=_("惩戒已解除：%(kind)s") % {"kind": sanction.get_kind_display()},
        body=sanction.lift_reason,
        url=f"/marketplace/agencies/{agency.pk}/",
    )
    record_audit_event(
        actor=actor,
        action="marketplace.sanction_lifted",
        obj=sanction,
        data={
            "uscc": agency.enterprise.uscc,
            "kind": sanction.kind,
            "reason": sanction.lift_reason,
            "by_period": actor is None and api_client is None,
            "api_client": api_client.pk if api_client is not None else None,
            "agency_restored": restored,
        },
    )
    return sanction


def _lock(sanction_id: int) -> Sanction | None:
    sanction = Sanction.objects.select_for_update().filter(pk=sanction_id).first()
    if sanction is not None:
        sanction.agency = (
            Agency.objects.select_for_update(of=("self",))
            .select_related("enterprise")
            .get(pk=sanction.agency_id)
        )
    return sanction


@transaction.atomic(durable=True)
def lift_sanction(
    *, user: Any = None, sanction_id: int, reason: str, api_client: Any = None
) -> Sanction:
    """Lift a sanction before its end, by decision, with the reason (a person, or a
    department system through ``api_client``)."""
    sanction = _lock(sanction_id)
    if sanction is None:
        raise DomainError(_("惩戒记录不存在"), code="not_found")
    if not may_decide_sanctions(user, sanction.agency, api_client):
        raise DomainError(_("您无权解除该机构的惩戒"), code="forbidden")
    if sanction.lifted_at is not None:
        raise DomainError(_("该惩戒已解除"), code="invalid_state")
    if not reason.strip():
        raise DomainError(_("请说明解除理由"), code="invalid")
    return _lift(sanction, actor=user, reason=reason.strip(), api_client=api_client)


def lift_ended_sanctions() -> int:
    """Beat (nightly): sanctions whose period ended yesterday or before are lifted. One
    transaction per sanction; idempotent."""
    today = timezone.localdate()
    due = list(
        Sanction.objects.filter(lifted_at__isnull=True, ends_on__lt=today).values_list(
            "pk", flat=True
        )
    )
    lifted = 0
    for sanction_id in due:
        with transaction.atomic():
            sanction = _lock(sanction_id)
            if sanction is None or sanction.lifted_at is not None:
                continue
            _lift(sanction, actor=None, reason=_("期限届满，自动解除"))
            lifted += 1
    return lifted
