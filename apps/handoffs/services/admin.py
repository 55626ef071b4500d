"""Administrators' operations: retrying and re-routing dead letters, configuring endpoints and
signing keys."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.core.models import Department
from apps.handoffs.constants import DeliveryMode, HandoffState
from apps.handoffs.models import (
    DepartmentEndpoint,
    Handoff,
    SigningKey,
)
from apps.handoffs.permissions import can_administer_handoff, can_configure_endpoint
from apps.handoffs.registry import is_target_fixed
from apps.handoffs.services.outbox import _endpoint_for, _max_attempts_for, _schedule

logger = logging.getLogger(__name__)

# --- administrators: dead letters ---------------------------------------------------------


def _reopen(handoff: Handoff, *, now: Any) -> None:
    handoff.state = HandoffState.PENDING
    handoff.attempts = 0
    handoff.max_attempts = _max_attempts_for(_endpoint_for(handoff.target_department_id))
    handoff.next_attempt_at = now
    handoff.enqueued_at = now
    handoff.dead_at = None
    handoff.save()
    _schedule(handoff.pk)


def _check_administrator(actor: Any, handoff: Handoff) -> None:
    """Re-checked here, not only in the view: the admin action and any future caller too."""
    if not can_administer_handoff(actor, handoff):
        raise DomainError(_("只有平台管理员或收发部门的部门管理员可以处理死信"), code="forbidden")


@transaction.atomic(durable=True)
def retry_handoff(*, handoff_id: int, actor: Any) -> Handoff:
    """An administrator sends a dead letter again, with a fresh attempt budget."""
    handoff = Handoff.objects.select_for_update().defer("payload").get(pk=handoff_id)
    _check_administrator(actor, handoff)
    if handoff.state != HandoffState.DEAD:
        raise DomainError(_("只有死信可以重试"), code="not_dead")
    _reopen(handoff, now=timezone.now())
    record_audit_event(
        actor=actor, action="handoffs.retried", obj=handoff, data={"error": handoff.last_error}
    )
    logger.info("handoff.retried", extra={"handoff_id": handoff.pk})
    return handoff


@transaction.atomic(durable=True)
def reroute_handoff(*, handoff_id: int, target_department: Department, actor: Any) -> Handoff:
    """An administrator re-routes a dead letter to another department (e.g. a wrong target).

    Not for subjects bound to their department (``registry.is_target_fixed``, e.g. cases):
    those are refused with a message pointing to the endpoint configuration and retry.
    """
    handoff = Handoff.objects.select_for_update().defer("payload").get(pk=handoff_id)
    _check_administrator(actor, handoff)
    if handoff.state != HandoffState.DEAD:
        raise DomainError(_("只有死信可以改派"), code="not_dead")
    if is_target_fixed(handoff.subject_type):
        # The subject's owner decides who may answer (a case: only its own department), so
        # another department could acknowledge but never answer. See registry.py.
        raise DomainError(
            _(
                "该交接的办理对象属于原接收部门（如办件由受理部门办理），不能改派到其他部门。"
                "请由该部门修正接收配置（推送地址、接收方式或密钥，或改为平台内办理）后重试投递。"
            ),
            code="target_fixed",
        )
    if target_department.pk == handoff.target_department_id:
        raise DomainError(_("改派部门与原接收部门相同"), code="same_target")
    if not target_department.is_active:
        raise DomainError(_("改派部门已停用"), code="inactive_target")
    previous = handoff.target_department_id
    handoff.target_department = target_department
    _reopen(handoff, now=timezone.now())
    record_audit_event(
        actor=actor,
        action="handoffs.rerouted",
        obj=handoff,
        data={"from_department": previous, "to_department": target_department.pk},
    )
    logger.info(
        "handoff.rerouted",
        extra={"handoff_id": handoff.pk, "from": previous, "to": target_department.pk},
    )
    return handoff


# --- endpoint configuration ---------------------------------------------------------------


def _check_configurer(actor: Any, department: Department | int) -> None:
    if not can_configure_endpoint(actor, department):
        raise DomainError(_("只有本部门管理员或平台管理员可以修改交接接收配置"), code="forbidden")


@transaction.atomic
def record_endpoint_admin_change(
    *, endpoint: DepartmentEndpoint, actor: Any, keys: list[str]
) -> None:
    """Audit a change made in the Django admin (which saves the rows itself, in its own
    transaction: hence a plain ``atomic``)."""
    record_audit_event(
        actor=actor,
        action="handoffs.endpoint_configured",
        obj=endpoint,
        data={
            "department": endpoint.department_id,
            "mode": endpoint.mode,
            "push_url": endpoint.push_url,
            "via": "admin",
            "keys": keys,
        },
    )


def _generate_secret() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic(durable=True)
def configure_endpoint(
    *,
    department: Department,
    actor: Any,
    mode: str,
    push_url: str = "",
    timeout_seconds: int = 10,
    max_attempts: int = 10,
    replay_window_seconds: int = 300,
    is_active: bool = True,
) -> DepartmentEndpoint:
    """Create or update a department's endpoint (admin or the department's administrator)."""
    _check_configurer(actor, department)
    endpoint = DepartmentEndpoint.objects.select_for_update().filter(
        department=department
    ).first() or DepartmentEndpoint(department=department)
    endpoint.mode = mode
    endpoint.push_url = push_url if mode == DeliveryMode.PUSH else ""
    endpoint.timeout_seconds = timeout_seconds
    endpoint.max_attempts = max_attempts
    endpoint.replay_window_seconds = replay_window_seconds
    endpoint.is_active = is_active
    if mode == DeliveryMode.PUSH and not push_url:
        raise DomainError(_("推送方式必须填写推送地址"), code="push_url_required")
    endpoint.full_clean()
    endpoint.save()
    record_audit_event(
        actor=actor,
        action="handoffs.endpoint_configured",
        obj=endpoint,
        data={"department": department.pk, "mode": mode, "push_url": endpoint.push_url},
    )
    return endpoint


@transaction.atomic(durable=True)
def add_signing_key(
    *, endpoint: DepartmentEndpoint, actor: Any, key_id: str, secret: str | None = None
) -> SigningKey:
    """Add a new active key (rotation step 1). Returns it with the secret, shown once."""
    _check_configurer(actor, endpoint.department_id)
    if SigningKey.objects.filter(endpoint=endpoint, key_id=key_id).exists():
        raise DomainError(_("密钥编号已存在"), code="key_id_taken")
    key = SigningKey(endpoint=endpoint, key_id=key_id, secret=secret or _generate_secret())
    key.full_clean()
    key.save()
    record_audit_event(
        actor=actor, action="handoffs.key_added", obj=endpoint, data={"key_id": key_id}
    )
    return key


@transaction.atomic(durable=True)
def deactivate_signing_key(*, key_id: int, endpoint: DepartmentEndpoint, actor: Any) -> SigningKey:
    """Retire a key (rotation step 2). The last active key of a push endpoint stays."""
    _check_configurer(actor, endpoint.department_id)
    key = SigningKey.objects.select_for_update().get(pk=key_id, endpoint=endpoint)
    if not key.is_active:
        return key
    others = SigningKey.objects.filter(endpoint=endpoint, is_active=True).exclude(pk=key.pk)
    if endpoint.mode == DeliveryMode.PUSH and not others.exists():
        raise DomainError(_("推送方式至少需要一把有效密钥"), code="last_key")
    key.is_active = False
    key.deactivated_at = timezone.now()
    key.save(update_fields=["is_active", "deactivated_at", "updated_at"])
    record_audit_event(
        actor=actor, action="handoffs.key_deactivated", obj=endpoint, data={"key_id": key.key_id}
    )
    return key
