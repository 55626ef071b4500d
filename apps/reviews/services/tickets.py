"""The bad-review loop (差评整改): tickets, follow-ups, rectification, the rater's answer,
escalation."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.calendar import working_deadline
from apps.core.exceptions import DomainError
from apps.core.models import Department
from apps.identity.constants import StaffRole
from apps.notifications.services import notify_users
from apps.reviews import national, rollups
from apps.reviews.config import policy_for
from apps.reviews.constants import (
    COMMENT_MAX,
    OPEN_TICKET_STATES,
    FollowUpChannel,
    FollowUpResult,
    RaterAnswer,
    TicketStatus,
)
from apps.reviews.models import (
    FollowUp,
    Rating,
    RectificationTicket,
    ReviewPolicy,
    ServiceAuthority,
)
from apps.reviews.permissions import (
    AUTHORITY_ROLES,
    can_work_ticket,
    is_staff_of,
)
from apps.reviews.text import mask_numbers


def _department_heads(department_id: int) -> list[int]:
    from apps.identity.models import StaffMembership

    return list(
        StaffMembership.objects.filter(
            department_id=department_id, role=StaffRole.DEPT_ADMIN, is_active=True
        ).values_list("user_id", flat=True)
    )


def _authority_members(department: Department) -> list[int]:
    """Members of the 政务服务管理机构 whose region contains ``department``."""
    from apps.cases.selectors import region_prefix
    from apps.identity.models import StaffMembership

    code = department.region.code
    authority_ids = [
        a.department_id
        for a in ServiceAuthority.objects.select_related("department__region")
        if code.startswith(region_prefix(a.department.region.code))
    ]
    return list(
        StaffMembership.objects.filter(
            department_id__in=authority_ids, role__in=AUTHORITY_ROLES, is_active=True
        ).values_list("user_id", flat=True)
    )


def _ticket_snapshot(ticket: RectificationTicket) -> Counter[str]:
    return rollups.ticket_contribution(ticket, rating_excluded=ticket.rating.is_excluded)


def _apply_ticket_change(ticket: RectificationTicket, before: Counter[str]) -> None:
    service = ticket.rating.service
    rollups.apply_change(
        rollups.rating_keys(service, ticket.rating.channel),
        service.period,
        before,
        _ticket_snapshot(ticket),
    )


def _open_ticket(rating: Rating) -> RectificationTicket:
    """差评 → a ticket for the handling department and staff member (谁办理、谁负责)."""
    service = rating.service
    policy = policy_for(service.department.region)
    now = timezone.now()
    ticket = RectificationTicket(
        rating=rating,
        department=service.department,
        staff_id=service.staff_id,
        callback_due=working_deadline(now, policy.callback_days),
        rectify_due=working_deadline(now, policy.rectify_days),
        appeal_due=working_deadline(now, policy.appeal_days),
    )
    ticket.full_clean()
    ticket.save()
    _apply_ticket_change(ticket, Counter())
    recipients = [*_department_heads(service.department_id)]
    if service.staff_id:
        recipients.append(service.staff_id)
    notify_users(
        recipients=recipients,
        key=f"reviews:ticket:{ticket.pk}:new",
        kind="reviews.ticket",
        title=_("收到差评，请在期限内回访核实并整改"),
        url=f"/office/reviews/tickets/{ticket.pk}/",
    )
    return ticket


def _lock_ticket(ticket_id: int) -> RectificationTicket:
    ticket = (
        RectificationTicket.objects.select_for_update(of=("self",))
        .select_related("rating__service", "department__region")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise DomainError(_("工单不存在"), code="not_found")
    return ticket


def _worker_ticket(ticket_id: int, user: Any) -> RectificationTicket:
    ticket = _lock_ticket(ticket_id)
    if not can_work_ticket(user, ticket):
        raise DomainError(_("只有责任部门的工作人员可以办理该工单"), code="forbidden")
    return ticket


def _move(ticket: RectificationTicket, to: str) -> None:
    if not ticket.can_transition(to):
        raise DomainError(
            _("工单当前状态（%(s)s）不能进行此操作") % {"s": ticket.get_status_display()},
            code="invalid_transition",
        )
    ticket.status = to


@transaction.atomic(durable=True)
def record_follow_up(
    *,
    ticket_id: int,
    user: Any,
    channel: str,
    result: str,
    note: str = "",
    recording_url: str = "",
    contacted_at: datetime | None = None,
) -> FollowUp:
    """回访 record. The first one moves a new ticket to 核实中."""
    ticket = _worker_ticket(ticket_id, user)
    if ticket.status not in OPEN_TICKET_STATES - {TicketStatus.APPEALED} and (
        ticket.status != TicketStatus.AWAITING_FEEDBACK
    ):
        raise DomainError(_("工单已办结，不能再记录回访"), code="invalid_transition")
    if channel not in FollowUpChannel.values or result not in FollowUpResult.values:
        raise DomainError(_("请选择回访方式和回访结果"), code="invalid_follow_up")
    contacted_at = contacted_at or timezone.now()
    if contacted_at > timezone.now() or contacted_at < ticket.created_at:
        raise DomainError(_("回访时间不能早于差评时间或晚于当前时间"), code="invalid_time")
    before = _ticket_snapshot(ticket)
    follow_up = FollowUp(
        ticket=ticket,
        channel=channel,
        result=result,
        note=mask_numbers(note.strip()),
        recording_url=recording_url.strip(),
        contacted_at=contacted_at,
        recorded_by=user,
    )
    follow_up.full_clean()
    follow_up.save()
    fields = ["updated_at"]
    if ticket.first_follow_up_at is None:
        ticket.first_follow_up_at = contacted_at
        fields.append("first_follow_up_at")
    if ticket.status == TicketStatus.NEW:
        ticket.status = TicketStatus.VERIFYING
        fields.append("status")
    ticket.save(update_fields=fields)
    _apply_ticket_change(ticket, before)
    record_audit_event(
        actor=user,
        action="reviews.follow_up",
        obj=ticket,
        data={"channel": channel, "result": result},
    )
    return follow_up


@transaction.atomic(durable=True)
def start_rectification(*, ticket_id: int, user: Any, finding: str) -> RectificationTicket:
    """核实 done: the finding is recorded and rectification starts (核实中 → 整改中)."""
    ticket = _worker_ticket(ticket_id, user)
    if not finding.strip():
        raise DomainError(_("请填写核实情况"), code="finding_required")
    if ticket.status == TicketStatus.NEW:
        raise DomainError(_("请先回访核实"), code="follow_up_required")
    _move(ticket, TicketStatus.RECTIFYING)
    ticket.finding = mask_numbers(finding.strip())
    ticket.save(update_fields=["status", "finding", "updated_at"])
    record_audit_event(actor=user, action="reviews.start_rectification", obj=ticket)
    return ticket


@transaction.atomic(durable=True)
def record_rectification(
    *, ticket_id: int, user: Any, measures: str, result: str
) -> RectificationTicket:
    """整改措施 and 整改结果: the ticket awaits the rater's answer (a rater unknown to the
    system — an anonymous pad rating — cannot answer, so the ticket closes at once)."""
    ticket = _worker_ticket(ticket_id, user)
    if not measures.strip() or not result.strip():
        raise DomainError(_("请填写整改措施和整改结果"), code="measures_required")
    before = _ticket_snapshot(ticket)
    _move(ticket, TicketStatus.AWAITING_FEEDBACK)
    now = timezone.now()
    ticket.measures = mask_numbers(measures.strip())
    ticket.result = mask_numbers(result.strip())
    ticket.rectified_at = now
    rater_id = ticket.rating.rater_id
    if rater_id is None:
        ticket.status = TicketStatus.CLOSED
        ticket.closed_at = now
    ticket.save()
    _apply_ticket_change(ticket, before)
    if rater_id is not None:
        notify_users(
            recipients=[rater_id],
            key=f"reviews:ticket:{ticket.pk}:feedback",
            kind="reviews.feedback",
            title=_("您的差评已整改，请查看整改结果并反馈意见"),
            body=ticket.result,
            url=f"/reviews/feedback/{ticket.pk}/",
        )
    national.push_ticket_result(ticket)
    record_audit_event(actor=user, action="reviews.rectify", obj=ticket)
    return ticket


@transaction.atomic(durable=True)
def answer_feedback(
    *, ticket_id: int, user: Any, answer: str, text: str = ""
) -> RectificationTicket:
    """The rater's answer to the rectification closes the ticket."""
    ticket = _lock_ticket(ticket_id)
    if not getattr(user, "is_authenticated", False) or ticket.rating.rater_id != user.pk:
        raise DomainError(_("只有评价人本人可以反馈"), code="forbidden")
    if answer not in RaterAnswer.values:
        raise DomainError(_("请选择对整改结果是否满意"), code="invalid_answer")
    before = _ticket_snapshot(ticket)
    _move(ticket, TicketStatus.CLOSED)
    ticket.rater_answer = answer
    ticket.rater_answer_text = mask_numbers(text.strip())[:COMMENT_MAX]
    ticket.answered_at = ticket.closed_at = timezone.now()
    ticket.save()
    _apply_ticket_change(ticket, before)
    national.push_ticket_result(ticket)
    record_audit_event(
        actor=user, action="reviews.answer_feedback", obj=ticket, data={"answer": answer}
    )
    return ticket


@transaction.atomic(durable=True)
def close_unanswered_ticket(*, ticket_id: int) -> RectificationTicket | None:
    """A rectified ticket whose rater did not answer within the region's feedback window
    (``feedback_days`` natural days after the rectification) closes without an answer: marked
    ``closed_without_answer``, pushed, the rater told, audited. Idempotent: ``None`` when the
    ticket is not (or no longer) awaiting feedback or its window has not passed."""
    ticket = _lock_ticket(ticket_id)
    if ticket.status != TicketStatus.AWAITING_FEEDBACK or ticket.rectified_at is None:
        return None
    days = policy_for(ticket.department.region).feedback_days
    now = timezone.now()
    if now < ticket.rectified_at + timedelta(days=days):
        return None
    before = _ticket_snapshot(ticket)
    _move(ticket, TicketStatus.CLOSED)
    ticket.closed_at = now
    ticket.closed_without_answer = True
    ticket.save(update_fields=["status", "closed_at", "closed_without_answer", "updated_at"])
    _apply_ticket_change(ticket, before)
    if ticket.rating.rater_id is not None:
        notify_users(
            recipients=[ticket.rating.rater_id],
            key=f"reviews:ticket:{ticket.pk}:auto_closed",
            kind="reviews.feedback",
            title=_("您的差评整改工单已逾期未反馈，已自动办结"),
            url=f"/reviews/feedback/{ticket.pk}/",
        )
    national.push_ticket_result(ticket)
    record_audit_event(
        actor=None,
        action="reviews.auto_close",
        obj=ticket,
        data={"feedback_days": days, "rectified_at": ticket.rectified_at.isoformat()},
    )
    return ticket


def close_unanswered_tickets() -> int:
    """Beat entry: close every ticket past its feedback window, one transaction each. The
    candidates are those past the shortest window in force; each is re-checked against its own
    region's window."""
    shortest = min(
        [
            settings.REVIEWS_FEEDBACK_DAYS,
            *ReviewPolicy.objects.values_list("feedback_days", flat=True),
        ]
    )
    ids = list(
        RectificationTicket.objects.filter(
            status=TicketStatus.AWAITING_FEEDBACK,
            rectified_at__lte=timezone.now() - timedelta(days=shortest),
        )
        .order_by("rectified_at", "pk")
        .values_list("pk", flat=True)
    )
    return sum(1 for ticket_id in ids if close_unanswered_ticket(ticket_id=ticket_id))


@transaction.atomic(durable=True)
def escalate_ticket(*, ticket_id: int) -> int:
    """督办 of one overdue ticket: level 1 when no follow-up by the call-back deadline, level 2
    when not rectified by the rectification deadline. Notifies the department head and the
    政务服务管理机构 once per level. Idempotent; returns the new level (0 if nothing to do)."""
    ticket = _lock_ticket(ticket_id)
    now = timezone.now()
    level = 0
    if ticket.status in OPEN_TICKET_STATES - {TicketStatus.APPEALED}:
        if ticket.rectified_at is None and now > ticket.rectify_due:
            level = 2
        elif ticket.first_follow_up_at is None and now > ticket.callback_due:
            level = 1
    if level <= ticket.escalation_level:
        return 0
    ticket.escalation_level = level
    ticket.escalated_at = now
    ticket.save(update_fields=["escalation_level", "escalated_at", "updated_at"])
    title = (
        _("差评工单逾期未整改，请督促整改") if level == 2 else _("差评工单逾期未回访，请督促回访")
    )
    notify_users(
        recipients=[
            *_department_heads(ticket.department_id),
            *_authority_members(ticket.department),
        ],
        key=f"reviews:ticket:{ticket.pk}:escalate:{level}",
        kind="reviews.escalation",
        title=title,
        url=f"/office/reviews/tickets/{ticket.pk}/",
    )
    record_audit_event(actor=None, action="reviews.escalate", obj=ticket, data={"level": level})
    return level


def escalate_overdue_tickets() -> int:
    """Beat entry: escalate every overdue open ticket, one transaction each."""
    now = timezone.now()
    ids = list(
        RectificationTicket.objects.filter(status__in=OPEN_TICKET_STATES - {TicketStatus.APPEALED})
        .filter(
            Q(rectified_at__isnull=True, rectify_due__lt=now, escalation_level__lt=2)
            | Q(first_follow_up_at__isnull=True, callback_due__lt=now, escalation_level__lt=1)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(1 for ticket_id in ids if escalate_ticket(ticket_id=ticket_id))


def is_department_member(user: Any, department_id: int) -> bool:
    return is_staff_of(user, department_id)
