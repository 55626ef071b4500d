"""Beat work on the clocks: Art. 32 deemed acceptance, expired supplement periods, tolerance
lapses, recomputed deadlines and SLA warnings."""

from __future__ import annotations

import logging
from datetime import date
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.cases import sla
from apps.cases.constants import (
    CLOCK_STATES,
    TRANSITIONS,
    Actor,
    CaseAction,
    CaseStatus,
)
from apps.cases.models import (
    Case,
    CaseEvent,
    SlaWarning,
    ToleranceCommitment,
)
from apps.cases.permissions import CaseActor
from apps.cases.services._base import _deadline, _event, _lock, case_clock
from apps.cases.services.intake import deem_case_accepted, expire_supplement
from apps.cases.services.materials import _TOLERANCE_STATES
from apps.cases.services.notify import sla_warning_recipients
from apps.core import calendar
from apps.core.queue import enqueue

logger = logging.getLogger(__name__)

# --- beat tasks: Art. 32 and SLA warnings ----------------------------------------------------


def apply_case_deadlines(*, batch: int = 500) -> dict[str, int]:
    """Art. 32 deemed acceptance and expired supplement periods (idempotent, beat task)."""
    now = timezone.now()
    deemed = expired = 0
    due_ids = list(
        Case.objects.filter(
            status__in=TRANSITIONS[CaseAction.DEEM_ACCEPTED].sources,
            supplement_notice_due__lt=now,
        )
        .order_by("supplement_notice_due")
        .values_list("pk", flat=True)[:batch]
    )
    for case_id in due_ids:
        if deem_case_accepted(case_id=case_id) is not None:
            deemed += 1
    expiring = list(
        Case.objects.filter(
            status=CaseStatus.AWAITING_SUPPLEMENT,
            supplement_notices__fulfilled_at__isnull=True,
            supplement_notices__due_at__lt=now,
        )
        .values_list("pk", flat=True)
        .distinct()[:batch]
    )
    for case_id in expiring:
        if expire_supplement(case_id=case_id) is not None:
            expired += 1
    lapsing = list(
        ToleranceCommitment.objects.filter(
            fulfilled_at__isnull=True,
            lapsed_at__isnull=True,
            due_at__lt=now,
            case__status__in=_TOLERANCE_STATES,
        )
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    lapsed = sum(1 for pk in lapsing if lapse_tolerance(commitment_id=pk) is not None)
    if deemed or expired or lapsed:
        logger.info(
            "cases.deadlines_applied",
            extra={"deemed": deemed, "expired": expired, "tolerance_lapsed": lapsed},
        )
    return {"deemed_accepted": deemed, "supplement_expired": expired, "tolerance_lapsed": lapsed}


def recompute_deadlines_for_year(*, year: int, actor: Any | None) -> int:
    """The calendar of ``year`` changed (its arrangement was loaded): recompute the deadline of
    every case whose clock runs into or across that year (issue 15 §4).

    Called by ``apps.core.services`` inside its transaction, with the new calendar in force.
    Each changed deadline gets a public ``deadline_recomputed`` event (with its audit record)
    and, after commit, a notice to the case's clerks and department. Idempotent: a deadline
    that does not move is left alone. Returns the number of deadlines changed.
    """
    year_start = calendar.end_of_day(date(year - 1, 12, 31))
    year_end = calendar.end_of_day(date(year, 12, 31))
    candidates = list(
        Case.objects.filter(
            status__in=list(CLOCK_STATES),
            accepted_at__isnull=False,
            promised_days__isnull=False,
            accepted_at__lte=year_end,
            deadline__gt=year_start,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    who = CaseActor.of(actor) if actor is not None else CaseActor.system()
    changed = 0
    for case_id in candidates:
        case = _lock(case_id)
        new = _deadline(case)
        if new == case.deadline:
            continue
        before = case.deadline
        case.deadline = new
        case.save(update_fields=["deadline", "updated_at"])
        event = _event(
            case,
            action="deadline_recomputed",
            actor=who,
            actor_kind=Actor.SYSTEM,
            from_status=case.status,
            note=_("%(year)d 年放假安排已发布，承诺办结日期重新计算") % {"year": year},
            data={"year": year, "before": before, "after": new},
        )
        transaction.on_commit(partial(_notify_deadline_rollback_safe, event.pk))
        changed += 1
    if changed:
        logger.info("cases.deadlines_recomputed", extra={"year": year, "changed": changed})
    return changed


def _notify_deadline_rollback_safe(event_id: int) -> None:
    enqueue("cases.notify_deadline_recomputed", event_id)


def notify_deadline_recomputed(*, event_id: int) -> int:
    """Tell the case's clerks and department that its deadline moved (站内消息, once per event:
    a retried task notifies nobody twice). Returns notices created."""
    from django.urls import reverse

    from apps.notifications.services import notify_users

    event = CaseEvent.objects.select_related("case").filter(pk=event_id).first()
    if event is None:
        return 0
    case = event.case
    return notify_users(
        recipients=sla_warning_recipients(case),
        key=f"cases.deadline_recomputed:{event.pk}",
        kind="cases.deadline_recomputed",
        title=_("办件 %(number)s 的承诺办结日期已重新计算") % {"number": case.number},
        body=_("%(year)s 年放假安排已发布：%(before)s → %(after)s")
        % {
            "year": event.data.get("year"),
            "before": str(event.data.get("before", ""))[:10],
            "after": f"{timezone.localtime(case.deadline):%Y-%m-%d}" if case.deadline else "",
        },
        url=reverse("office-cases:case", args=[case.pk]),
    )


def lapse_tolerance(*, commitment_id: int) -> ToleranceCommitment | None:
    """容缺受理: the committed material did not arrive by its deadline (beat task; idempotent).

    Records a public timeline entry (with its audit event), flags the case
    (``Case.tolerance_lapsed``: the office queue and case screen show it, and no grant is
    possible until the material arrives) and notifies the applicant and the case's clerks.
    """
    with transaction.atomic(durable=True):
        case_id = (
            ToleranceCommitment.objects.filter(pk=commitment_id)
            .values_list("case_id", flat=True)
            .first()
        )
        if case_id is None:
            return None
        case = _lock(case_id)
        commitment = case.tolerances.get(pk=commitment_id)
        if (
            commitment.fulfilled_at is not None
            or commitment.lapsed_at is not None
            or timezone.now() <= commitment.due_at
            or case.status not in _TOLERANCE_STATES
        ):
            return None
        commitment.lapsed_at = timezone.now()
        commitment.save(update_fields=["lapsed_at", "updated_at"])
        case.tolerance_lapsed = True
        case.save(update_fields=["tolerance_lapsed", "updated_at"])
        _event(
            case,
            action="tolerance_lapsed",
            actor=CaseActor.system(),
            actor_kind=Actor.SYSTEM,
            from_status=case.status,
            note=_("容缺材料“%(name)s”逾期未补齐（信用承诺期限 %(due)s）")
            % {"name": commitment.name, "due": f"{timezone.localtime(commitment.due_at):%Y-%m-%d}"},
            data={"tolerance_id": commitment.pk, "slot": commitment.slot_key},
        )
        transaction.on_commit(partial(_notify_tolerance_lapsed, commitment.pk))
    return commitment


def _notify_tolerance_lapsed(commitment_id: int) -> None:
    from django.urls import reverse

    from apps.notifications.services import notify_users

    commitment = ToleranceCommitment.objects.select_related("case").get(pk=commitment_id)
    case = commitment.case
    title = _("办件 %(number)s 容缺材料逾期未补齐") % {"number": case.number}
    body = _("请尽快补齐“%(name)s”。") % {"name": commitment.name}
    key = f"cases.tolerance_lapsed:{commitment.pk}"
    notify_users(
        recipients=[case.applicant_user_id, case.acting_user_id],
        key=key,
        kind="cases.tolerance_lapsed",
        title=title,
        body=body,
        url=reverse("cases:detail", args=[case.pk]),
    )
    notify_users(
        recipients=sla_warning_recipients(case),
        key=key,
        kind="cases.tolerance_lapsed",
        title=title,
        body=body,
        url=reverse("office-cases:case", args=[case.pk]),
    )


def raise_sla_warnings(*, batch: int = 2000) -> dict[str, int]:
    """Raise yellow/red warnings once per (case, level) (idempotent, beat task).

    Only cases whose clock runs are scanned, only those whose deadline falls within the yellow
    threshold, and never a (case, level) pair already warned: a red case is out of the scan
    for good, a yellow one comes back only once it is overdue by the red threshold. So however
    many cases are already warned, every batch holds only cases that still need a warning.
    """
    from django.db.models import Exists, OuterRef, Q

    from apps.cases.constants import SlaLevel

    now = timezone.now()
    horizon = calendar.working_deadline(now, sla.yellow_threshold())
    warned = {
        level: Exists(SlaWarning.objects.filter(case_id=OuterRef("pk"), level=level))
        for level in (SlaLevel.YELLOW, SlaLevel.RED)
    }
    red_now = (
        Q(deadline__lt=now) if sla.red_threshold() == 0 else Q(deadline__lte=sla.red_cutoff(now))
    )
    candidates = (
        Case.objects.filter(
            status__in=[CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW], deadline__lte=horizon
        )
        .filter(~warned[SlaLevel.RED])
        .filter(red_now | ~warned[SlaLevel.YELLOW])
        .only(
            "pk",
            "accepted_at",
            "promised_days",
            "extension_days",
            "paused_days",
            "paused_since",
            "deadline",
            "number",
            "department_id",
        )
        .order_by("deadline", "pk")[:batch]
    )
    raised = {"yellow": 0, "red": 0}
    for case in candidates:
        clock = case_clock(case)
        if clock is None:
            continue
        level = sla.warning_level(clock, now)
        if level is None:
            continue
        with transaction.atomic(durable=True):
            locked = _lock(case.pk)
            if locked.status not in (CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW):
                continue
            warning, created = SlaWarning.objects.get_or_create(
                case=locked,
                level=level,
                defaults={"deadline": locked.deadline, "days_left": sla.days_left(clock, now)},
            )
            if not created:
                continue
            raised[level] += 1
            # Internal timeline entry (not shown to the applicant) + audit, like any event.
            _event(
                locked,
                action="sla_warning",
                actor=CaseActor.system(),
                actor_kind=Actor.SYSTEM,
                from_status=locked.status,
                data={"level": level, "days_left": warning.days_left},
                is_public=False,
            )
            transaction.on_commit(partial(_notify_warning_rollback_safe, warning.pk))
    return raised


def _notify_warning_rollback_safe(warning_id: int) -> None:
    enqueue("cases.notify_sla_warning", warning_id)
