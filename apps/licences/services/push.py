"""Status changes reach others (DOMAIN.md §3.7 point 4): every status change of a licence is
pushed through the handoff outbox to the subscribing departments — and the national sharing
platform, subscribed like any department — with the outbox's signing, retries and idempotency.
The payload follows the exchange record (``cd_operation`` U) and carries no holder data."""

from __future__ import annotations

import re

from django.db import transaction

from apps.audit.services import record_audit_event
from apps.core.models import Department
from apps.handoffs.services import enqueue_handoff
from apps.identity.pii import mask_id_number, mask_phone
from apps.licences.models import Licence, LicenceStatusChange, StatusSubscription

EVENT_PREFIX = "licence."
# An ID or mobile number typed into a reason (e.g. 持证人…): masked before it leaves the
# portal, as the national platform refuses personal numbers in clear.
_PERSONAL_NUMBER = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9})(?!\d)")


def _masked(text: str) -> str:
    return _PERSONAL_NUMBER.sub(
        lambda m: mask_id_number(m[0]) if len(m[0]) == 18 else mask_phone(m[0]), text or ""
    )


def _subscribers(licence: Licence) -> list[Department]:
    code = licence.licence_type.code
    return [
        sub.department
        for sub in StatusSubscription.objects.filter(is_active=True)
        .exclude(department_id=licence.issuer_id)
        .select_related("department")
        .order_by("pk")
        if not sub.licence_types or code in sub.licence_types
    ]


def push_status_change(licence: Licence, change: LicenceStatusChange) -> int:
    """Enqueue one handoff per subscriber in the caller's transaction; delivery after commit.
    Idempotent per (history row, subscriber)."""
    targets = _subscribers(licence)
    successor = change.related.identifier if change.related_id and change.related else ""
    payload = {
        "cd_operation": "U",
        "certificate_identifier": licence.identifier,
        "certificate_type_code": licence.licence_type.code,
        "certificate_name": licence.name,
        "issuer_code": licence.issuer_code,
        "action": change.action,
        "from_status": change.from_status,
        "status": change.to_status,
        "reason": _masked(change.reason),
        "legal_basis": _masked(change.legal_basis),
        "occurred_at": change.occurred_at.isoformat(),
        "superseded_by": successor if change.to_status == "superseded" else "",
    }
    for department in targets:
        enqueue_handoff(
            subject=licence,
            event=f"{EVENT_PREFIX}{change.to_status}",
            source_department=licence.issuer,
            target_department=department,
            payload=payload,
            idempotency_key=f"licence-status:{change.pk}:{department.pk}",
        )
    return len(targets)


@transaction.atomic(durable=True)
def subscribe_status_changes(
    *,
    department: Department,
    licence_types: list[str],
    actor: object = None,
    client_id: int | None = None,
) -> StatusSubscription:
    """A department subscribes (or changes its subscription) to licence status changes;
    ``licence_types`` empty: every type. ``actor`` is the user, ``client_id`` the department
    system that asked (for the audit trail)."""
    sub, _created = StatusSubscription.objects.update_or_create(
        department=department,
        defaults={"licence_types": sorted(set(licence_types)), "is_active": True},
    )
    record_audit_event(
        actor=actor,
        action="licences.status_subscription",
        obj=sub,
        data={"licence_types": sub.licence_types, "client_id": client_id},
    )
    return sub


@transaction.atomic(durable=True)
def unsubscribe_status_changes(
    *, department: Department, actor: object = None, client_id: int | None = None
) -> StatusSubscription | None:
    """The department stops receiving status changes. Repeating it changes nothing (and
    writes no second audit event); the row stays, inactive, so the history keeps its object."""
    sub = StatusSubscription.objects.select_for_update().filter(department=department).first()
    if sub is not None and sub.is_active:
        sub.is_active = False
        sub.save(update_fields=["is_active", "updated_at"])
        record_audit_event(
            actor=actor,
            action="licences.status_unsubscription",
            obj=sub,
            data={"client_id": client_id},
        )
    return sub
