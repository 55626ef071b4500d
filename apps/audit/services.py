"""Writing and verifying the audit chain.

``record_audit_event`` is called by every service, inside the service's own transaction, after
the change it records (STYLE.md S4). It locks the chain head, so the whole write is serialised
from that point until the service commits: services call it as their last database step to
keep that window short.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from apps.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent

# Request context (client IP) set by AuditContextMiddleware; services need not pass it along.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_ip", default=None)


def _normalise(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Round-trip through JSON so the hashed form equals what the database returns."""
    return json.loads(json.dumps(dict(data or {}), default=str, ensure_ascii=False))


def compute_hash(
    *,
    seq: int,
    occurred_at_iso: str,
    actor_id: int | None,
    actor_repr: str,
    action: str,
    object_type: str,
    object_id: str,
    data: Mapping[str, Any],
    ip: str | None,
    prev_hash: str,
) -> str:
    canonical = json.dumps(
        {
            "seq": seq,
            "occurred_at": occurred_at_iso,
            "actor_id": actor_id,
            "actor_repr": actor_repr,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "data": data,
            "ip": ip,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _iso(moment: Any) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(event: AuditEvent) -> str:
    return compute_hash(
        seq=event.seq,
        occurred_at_iso=_iso(event.occurred_at),
        actor_id=event.actor_id,
        actor_repr=event.actor_repr,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        data=event.data,
        ip=event.ip,
        prev_hash=event.prev_hash,
    )


def _lock_head() -> AuditChainHead:
    try:
        return AuditChainHead.objects.select_for_update().get(pk=1)
    except AuditChainHead.DoesNotExist:
        # The migration creates the genesis head; a flushed database (tests) lacks it. Create it
        # race-free. If events exist without a head, the next insert collides on ``seq`` and
        # fails instead of starting a second chain.
        AuditChainHead.objects.bulk_create([AuditChainHead(pk=1)], ignore_conflicts=True)
        return AuditChainHead.objects.select_for_update().get(pk=1)


def record_audit_event(
    *,
    actor: Any | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    data: Mapping[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    ``actor`` is a user or ``None`` for the system (beat tasks, department clients map to their
    service user). Personal data must not be put in ``data`` in clear (STYLE.md N5).
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    actor_id = getattr(actor, "pk", None)
    actor_repr = (actor.get_username() if actor_id else "system")[:150]
    with transaction.atomic():
        head = _lock_head()
        seq = head.seq + 1
        occurred_at = timezone.now()
        normalised = _normalise(data)
        ip = ip if ip is not None else current_ip.get()
        digest = compute_hash(
            seq=seq,
            occurred_at_iso=_iso(occurred_at),
            actor_id=actor_id,
            actor_repr=actor_repr,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            data=normalised,
            ip=ip,
            prev_hash=head.hash,
        )
        event = AuditEvent.objects.create(
            seq=seq,
            occurred_at=occurred_at,
            actor_id=actor_id,
            actor_repr=actor_repr,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            data=normalised,
            ip=ip,
            prev_hash=head.hash,
            hash=digest,
        )
        head.seq = seq
        head.hash = digest
        head.save(update_fields=["seq", "hash"])
    return event


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"event seq={self.seq}" + (f" (id={self.event_id})" if self.event_id else "")
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    checked: int
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _events() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("seq").iterator(chunk_size=5000)


def verify_audit_chain() -> ChainReport:
    """Walk the chain in order and report the first event that does not fit.

    Detects an edited row (its hash no longer matches its content), a deleted row (a gap in the
    sequence, or a successor whose ``prev_hash`` no longer matches), and a deleted tail (the
    head row is ahead of the last event).
    """
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    for event in _events():
        if event.seq != expected_seq:
            return ChainReport(
                checked,
                ChainProblem(
                    expected_seq, None, f"missing (deleted); next present is seq={event.seq}"
                ),
            )
        if event.prev_hash != prev_hash:
            return ChainReport(
                checked,
                ChainProblem(event.seq, event.pk, "prev_hash does not match the previous event"),
            )
        if event_hash(event) != event.hash:
            return ChainReport(
                checked,
                ChainProblem(event.seq, event.pk, "content does not match its hash (edited)"),
            )
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first() or AuditChainHead(seq=0, hash=GENESIS_HASH)
    if head.seq != expected_seq - 1 or head.hash != prev_hash:
        return ChainReport(
            checked,
            ChainProblem(
                expected_seq,
                None,
                f"chain head records seq={head.seq} but the trail ends at seq={expected_seq - 1}"
                " (tail deleted or head altered)",
            ),
        )
    return ChainReport(checked, None)
