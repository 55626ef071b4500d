"""The application's life after submission: its status re-derived from the children (with the
plain-words note when it is partly concluded), withdrawal of the whole bundle, and the sweeper
that re-enqueues orchestration work a lost task or a killed worker left behind."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.bundles.constants import (
    ApplicationStatus,
    ChildState,
)
from apps.bundles.models import (
    BundleApplication,
    BundleChild,
)
from apps.bundles.services._base import (
    _CLOSED_CASE_STATES,
    _DECIDED_CASE_STATES,
    derive_status,
    effective_state,
    enqueue_advance,
    is_granted,
)
from apps.bundles.services.results import wallet_deliveries_pending
from apps.cases.services import (
    CaseActor,
    IllegalTransition,
    withdraw_case,
)
from apps.core.exceptions import DomainError
from apps.core.i18n import join_list

logger = logging.getLogger(__name__)


def _status_note(children: Sequence[BundleChild], status: str) -> str:
    if status != ApplicationStatus.PARTLY_CONCLUDED:
        return ""
    stopped = [c for c in children if effective_state(c) != ChildState.DECIDED or not is_granted(c)]
    names = join_list(c.component.item_version.name for c in stopped if c.component.item_version)
    return _(
        "以下事项未能办成：%(names)s。依赖它们的后续事项无法继续办理；其余已办结事项的结果"
        "不受影响，您可以在调整后单独申请未办成的事项。"
    ) % {"names": names}


def refresh_application_status(
    *, application_id: int, advanced_at: Any | None = None
) -> BundleApplication:
    """Re-derive the application's status from its children (audited when it changes)."""
    with transaction.atomic(durable=True):
        application = BundleApplication.objects.select_for_update().get(pk=application_id)
        children = list(application.children.select_related("component__item_version", "case"))
        status = derive_status(
            [(effective_state(c), is_granted(c)) for c in children],
            withdrawn=application.withdrawn_at is not None,
        )
        fields = ["updated_at"]
        if advanced_at is not None:
            application.advanced_at = advanced_at
            fields.append("advanced_at")
        changed = status != application.status
        if changed:
            application.status = status
            application.status_note = _status_note(children, status)
            application.concluded_at = (
                timezone.now() if status != ApplicationStatus.IN_PROGRESS else None
            )
            fields += ["status", "status_note", "concluded_at"]
        application.save(update_fields=fields)
        if changed:
            record_audit_event(
                actor=None,
                action="bundles.status_changed",
                obj=application,
                data={"status": status},
            )
    return application


def withdraw_bundle_application(
    *, application_id: int, user: Any, reason: str = ""
) -> BundleApplication:
    """撤回整件: stop the orchestration, close the children not yet started and withdraw each
    child case that can still be withdrawn (decided ones stay). Idempotent."""
    with transaction.atomic(durable=True):
        application = BundleApplication.objects.select_for_update().get(pk=application_id)
        if application.applicant_user_id != getattr(user, "pk", None):
            raise DomainError(_("您无权撤回该申请"), code="forbidden")
        if application.status != ApplicationStatus.IN_PROGRESS and not application.withdrawn_at:
            raise DomainError(_("该一件事已办结，不能撤回"), code="illegal_transition")
        application.withdrawn_at = application.withdrawn_at or timezone.now()
        application.status = ApplicationStatus.WITHDRAWN
        application.save(update_fields=["withdrawn_at", "status", "updated_at"])
        application.children.filter(state__in=[ChildState.WAITING, ChildState.STARTING]).update(
            state=ChildState.CLOSED, lease_until=None, updated_at=timezone.now()
        )
        record_audit_event(actor=user, action="bundles.withdrawn", obj=application)
    for child in application.children.filter(case__isnull=False).select_related("case"):
        if child.case.is_terminal or child.case.status in _DECIDED_CASE_STATES:
            continue
        try:
            withdraw_case(
                case_id=child.case_id, actor=CaseActor.of(user), reason=reason or _("撤回一件事")
            )
        except (IllegalTransition, DomainError):
            logger.info("bundles.child_not_withdrawable", extra={"child_id": child.pk})
    return application


def sweep_bundle_applications(*, stale_after: timedelta | None = None) -> int:
    """Re-enqueue the orchestration of applications with work it has not seen: a child decided
    after the last pass, an expired claim, a submitted child whose case closed, no pass at
    all (the task was lost with a worker or Redis), or a child 办结 with its licence and not yet
    delivered to the wallet the applicant chose. Returns how many were enqueued.

    Each application is re-enqueued at most once per ``stale_after``: ``requeued_at`` is set in
    the same transaction that picks it (rows locked by a running pass are skipped), and the
    tasks are sent after the commit. A worker that falls behind therefore gets one task per
    application, not one per sweep; a task lost after the commit (a killed worker, a restarted
    Redis, a sweeper killed before sending) is sent again by the first sweep after
    ``stale_after``.
    """

    now = timezone.now()
    if stale_after is None:
        stale_after = timedelta(seconds=settings.BUNDLE_SWEEP_STALE_SECONDS)
    cutoff = now - stale_after
    not_requeued_lately = Q(requeued_at__isnull=True) | Q(requeued_at__lt=cutoff)
    pending_children = BundleChild.objects.filter(application=OuterRef("pk")).filter(
        Q(decided_at__gt=F("application__advanced_at"))
        | Q(state=ChildState.STARTING, lease_until__lt=now)
        | Q(state=ChildState.SUBMITTED, case__status__in=list(_CLOSED_CASE_STATES))
    )
    candidates = list(
        BundleApplication.objects.filter(status=ApplicationStatus.IN_PROGRESS)
        .filter(not_requeued_lately)
        .filter(
            Q(advanced_at__isnull=True, submitted_at__lt=cutoff)
            | Q(Exists(pending_children), updated_at__lt=cutoff)
        )
        .values_list("pk", flat=True)[:1000]
    )
    wallet = wallet_deliveries_pending().filter(not_requeued_lately).exclude(pk__in=candidates)
    candidates += list(wallet.values_list("pk", flat=True)[:1000])
    with transaction.atomic(durable=True):
        ids = list(
            BundleApplication.objects.select_for_update(skip_locked=True)
            .filter(pk__in=candidates)
            .filter(not_requeued_lately)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        # updated_at stays: it tells the sweeper when the application itself last changed.
        BundleApplication.objects.filter(pk__in=ids).update(requeued_at=now)
    for application_id in ids:
        enqueue_advance(application_id)
    if ids:
        logger.info("bundles.swept", extra={"count": len(ids), "application_ids": ids[:100]})
    return len(ids)
