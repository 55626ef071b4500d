"""Every write of 好差评 (STYLE.md C3): service records, ratings, the bad-review loop, appeals.

Each entry service locks what it changes, writes its rows, updates the statistics rollups
(``apps.reviews.rollups``) and appends the audit event last, all in one transaction.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.core.calendar import working_deadline
from apps.core.exceptions import DomainError
from apps.core.models import Department, ServiceWindow
from apps.identity.constants import StaffRole
from apps.notifications.services import notify_users
from apps.reviews import national, rollups
from apps.reviews.config import policy_for, region_path
from apps.reviews.constants import (
    CITIZEN_CHANNELS,
    OPEN_TICKET_STATES,
    AppealGround,
    AppealStatus,
    FollowUpChannel,
    FollowUpResult,
    Grade,
    ModerationStatus,
    RaterAnswer,
    RatingChannel,
    RatingSource,
    ServiceKind,
    TicketStatus,
    channel_kind,
    is_bad,
)
from apps.reviews.models import (
    Appeal,
    FollowUp,
    IndicatorOption,
    IndicatorSet,
    ModerationWord,
    Rating,
    RectificationTicket,
    ServiceAuthority,
    ServiceRecord,
)
from apps.reviews.permissions import (
    AUTHORITY_ROLES,
    can_file_appeal,
    can_rate_case_service,
    can_work_ticket,
    is_authority_for,
    is_own_service,
    is_staff_of,
)
from apps.reviews.text import held_words, mask_numbers

logger = logging.getLogger(__name__)

COMMENT_MAX = 500
PAD_SALT = "reviews.pad"
RATEABLE_CASE_STATES = (CaseStatus.COMPLETED, CaseStatus.DELIVERED)


# --- service records ----------------------------------------------------------------------


def _period(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m")


def _new_service(**fields: Any) -> ServiceRecord:
    department: Department = fields["department"]
    region = department.region
    completed_at: datetime = fields["completed_at"]
    policy = policy_for(region)
    service = ServiceRecord(
        region=region,
        region_path=",".join(r.code for r in region_path(region)),
        default_due_at=completed_at + timedelta(days=policy.default_after_days),
        period=_period(completed_at),
        **fields,
    )
    service.full_clean()
    service.save()
    rollups.apply_change(
        rollups.service_keys(service),
        service.period,
        Counter(),
        rollups.service_contribution(service),
    )
    return service


def _case_service(case: Case) -> ServiceRecord:
    """The service record of a completed case, created on first need (helper, no commit)."""
    existing = ServiceRecord.objects.filter(case=case).first()
    if existing is not None:
        return existing
    version = case.item_version
    return _new_service(
        kind=ServiceKind.CASE,
        case=case,
        department=case.department,
        item_code=version.implementation_code,
        item_name=version.name,
        hall=case.hall,
        staff=case.accepted_by,
        summary=version.name,
        completed_at=case.completed_at or timezone.now(),
    )


@transaction.atomic(durable=True)
def register_completed_cases(*, limit: int = 500) -> int:
    """Give completed cases without one a service record, so the default rating and the
    主动评价率 denominator see them. Idempotent (a case has at most one record); called by the
    ``reviews.apply_defaults`` beat task before defaults are applied."""
    cases = list(
        Case.objects.filter(
            status__in=RATEABLE_CASE_STATES,
            completed_at__isnull=False,
            review_service__isnull=True,
        )
        .select_related("item_version", "department__region")
        .order_by("completed_at", "pk")[:limit]
    )
    for case in cases:
        _case_service(case)
    return len(cases)


@transaction.atomic(durable=True)
def record_window_service(
    *,
    clerk: Any,
    window_id: int,
    department_id: int,
    summary: str,
    item_code: str = "",
    item_name: str = "",
    served_user: Any | None = None,
) -> ServiceRecord:
    """A clerk records one finished window service (一次一评): the pad link and the printed
    QR are bound to it. The clerk must work at this window for this department."""
    window = ServiceWindow.objects.select_related("hall").filter(pk=window_id).first()
    if window is None or not window.departments.filter(pk=department_id).exists():
        raise DomainError(_("窗口不存在或不属于该部门"), code="invalid_window")
    if (
        StaffRole.CLERK
        not in {
            m.role for m in clerk.memberships.filter(is_active=True, department_id=department_id)
        }
        and not clerk.memberships.filter(
            is_active=True, department_id=department_id, role=StaffRole.DEPT_ADMIN
        ).exists()
    ):
        raise DomainError(_("您不是该部门的窗口工作人员"), code="not_clerk")
    summary = summary.strip()
    if not summary:
        raise DomainError(_("请填写服务内容"), code="summary_required")
    department = Department.objects.select_related("region").get(pk=department_id)
    service = _new_service(
        kind=ServiceKind.WINDOW,
        department=department,
        hall=window.hall,
        window=window,
        staff=clerk,
        served_user=served_user,
        item_code=item_code,
        item_name=item_name,
        summary=summary[:200],
        completed_at=timezone.now(),
        pad_nonce=secrets.token_hex(8),
    )
    record_audit_event(actor=clerk, action="reviews.window_service", obj=service)
    return service


def pad_token(service: ServiceRecord) -> str:
    """The signed single-use token of the pad page and the printed QR (no login needed)."""
    return signing.dumps({"s": service.pk, "n": service.pad_nonce}, salt=PAD_SALT)


def service_for_pad_token(token: str) -> ServiceRecord:
    """The unrated window service a pad token is bound to; refuses used or forged tokens."""
    try:
        data = signing.loads(token, salt=PAD_SALT, max_age=settings.REVIEWS_PAD_TOKEN_MAX_AGE)
    except signing.BadSignature as exc:
        raise DomainError(_("评价链接无效或已过期"), code="bad_token") from exc
    service = (
        ServiceRecord.objects.select_related("department", "hall", "window")
        .filter(pk=data.get("s"), kind=ServiceKind.WINDOW)
        .first()
    )
    if service is None or not service.pad_nonce or service.pad_nonce != data.get("n"):
        raise DomainError(_("该评价链接已使用或已失效"), code="token_used")
    return service


# --- ratings ------------------------------------------------------------------------------


def active_indicator_set(channel: str) -> IndicatorSet | None:
    return IndicatorSet.objects.filter(kind=channel_kind(channel), is_active=True).first()


def _check_options(
    indicator_set: IndicatorSet | None, grade: str, options: Sequence[str]
) -> list[str]:
    codes = list(dict.fromkeys(str(o) for o in options))
    if indicator_set is None:
        if codes:
            raise DomainError(_("评价指标选项无效"), code="invalid_options")
        return []
    allowed = dict(
        IndicatorOption.objects.filter(indicator__indicator_set=indicator_set).values_list(
            "code", "is_bad_reason"
        )
    )
    bad = is_bad(grade)
    for code in codes:
        if code not in allowed or allowed[code] != bad:
            raise DomainError(_("所选评价指标与满意度不符"), code="invalid_options")
    if bad and not codes:
        raise DomainError(_("差评请至少选择一项不满意的原因"), code="reason_required")
    return codes


def _moderate(comment: str) -> tuple[str, str]:
    """Mask, then check against the word list: a hit holds the *text* for review."""
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(
            _("文字评价不能超过 %(n)d 字") % {"n": COMMENT_MAX}, code="comment_too_long"
        )
    masked = mask_numbers(comment)
    if not masked:
        return "", ModerationStatus.NOT_NEEDED
    words = list(ModerationWord.objects.filter(is_active=True).values_list("word", flat=True))
    return masked, ModerationStatus.HELD if held_words(
        masked, words
    ) else ModerationStatus.NOT_NEEDED


def _create_rating(
    *,
    service: ServiceRecord,
    rater: Any | None,
    grade: str,
    channel: str,
    options: Sequence[str] = (),
    comment: str = "",
    is_anonymous: bool = True,
    source: str = RatingSource.RATER,
) -> Rating:
    """The shared part of every rating (helper; the caller holds the service lock)."""
    if grade not in Grade.values:
        raise DomainError(_("请选择满意度"), code="invalid_grade")
    previous = list(service.ratings.order_by("sequence"))
    if any(r.source == RatingSource.SYSTEM_DEFAULT for r in previous):
        raise DomainError(_("评价期已过，已按系统默认评价"), code="rating_closed")
    if len(previous) >= 2:
        raise DomainError(_("每次服务只能评价一次并追加一次评价"), code="already_rated")
    if source == RatingSource.RATER:
        if channel not in CITIZEN_CHANNELS:
            raise DomainError(_("评价渠道无效"), code="invalid_channel")
        if not previous and timezone.now() > service.default_due_at:
            raise DomainError(_("评价期已过，已按系统默认评价"), code="rating_closed")
    indicator_set = active_indicator_set(channel) if source == RatingSource.RATER else None
    codes = _check_options(indicator_set, grade, options) if source == RatingSource.RATER else []
    masked, moderation = _moderate(comment)
    first = previous[0] if previous else None
    if first is not None:
        # 二次评价 supersedes the first one in the statistics.
        before = rollups.rating_contribution(first)
        first.is_current = False
        first.save(update_fields=["is_current", "updated_at"])
        rollups.apply_change(
            rollups.rating_keys(service, first.channel), service.period, before, Counter()
        )
    rating = Rating(
        service=service,
        sequence=len(previous) + 1,
        grade=grade,
        channel=channel,
        source=source,
        indicator_set=indicator_set,
        options=codes,
        comment=masked,
        moderation=moderation,
        is_anonymous=is_anonymous,
        rater=rater,
    )
    rating.full_clean()
    rating.save()
    rollups.apply_change(
        rollups.rating_keys(service, channel),
        service.period,
        Counter(),
        rollups.rating_contribution(rating),
    )
    service.is_rated = True
    service.pad_nonce = ""
    service.save(update_fields=["is_rated", "pad_nonce", "updated_at"])
    if is_bad(grade) and source == RatingSource.RATER:
        _open_ticket(rating)
    national.push_rating(rating)
    return rating


def _lock_service(service_id: int) -> ServiceRecord:
    return (
        ServiceRecord.objects.select_for_update(of=("self",))
        .select_related("department__region", "case")
        .get(pk=service_id)
    )


@transaction.atomic(durable=True)
def rate_case(
    *,
    case_id: int,
    user: Any,
    grade: str,
    channel: str = RatingChannel.PC,
    options: Sequence[str] = (),
    comment: str = "",
    is_anonymous: bool = True,
) -> Rating:
    """一事一评: the applicant or acting agent rates a completed case once, plus one follow-up.

    Refused for anyone else, for staff of the handling department, before completion, after
    the default window, and after two ratings. A 差评 opens a rectification ticket.
    """
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("item_version", "department__region", "enterprise")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise DomainError(_("办件不存在"), code="not_found")
    if case.status not in RATEABLE_CASE_STATES:
        raise DomainError(_("办件办结后才能评价"), code="not_completed")
    service = _lock_service(_case_service(case).pk)
    if not can_rate_case_service(user, service):
        raise DomainError(
            _("只有本件的申请人或经办人可以评价，工作人员不能评价本部门的服务"), code="not_rater"
        )
    rating = _create_rating(
        service=service,
        rater=user,
        grade=grade,
        channel=channel,
        options=options,
        comment=comment,
        is_anonymous=is_anonymous,
    )
    record_audit_event(
        actor=user,
        action="reviews.rate",
        obj=rating,
        data={"case": case.pk, "grade": grade, "sequence": rating.sequence},
    )
    return rating


@transaction.atomic(durable=True)
def rate_by_token(
    *,
    token: str,
    grade: str,
    channel: str = RatingChannel.HALL_PAD,
    user: Any | None = None,
    options: Sequence[str] = (),
    comment: str = "",
) -> Rating:
    """一次一评 on the hall pad (or the printed QR on a phone): bound to one window service by
    a signed single-use token; no login. A signed-in member of the handling department (the
    clerk's own session on the pad) is refused."""
    if channel not in (RatingChannel.HALL_PAD, RatingChannel.QR, RatingChannel.HALL_TERMINAL):
        raise DomainError(_("评价渠道无效"), code="invalid_channel")
    service = service_for_pad_token(token)
    service = _lock_service(service.pk)
    if not service.pad_nonce:
        raise DomainError(_("该评价链接已使用或已失效"), code="token_used")
    if is_own_service(user, service):
        raise DomainError(_("工作人员不能评价本部门的服务"), code="own_service")
    rater = service.served_user or (user if getattr(user, "is_authenticated", False) else None)
    rating = _create_rating(
        service=service,
        rater=rater,
        grade=grade,
        channel=channel,
        options=options,
        comment=comment,
    )
    record_audit_event(
        actor=None,
        action="reviews.rate",
        obj=rating,
        data={"service": service.pk, "grade": grade, "sequence": rating.sequence},
    )
    return rating


@transaction.atomic(durable=True)
def rate_service_followup(
    *,
    service_id: int,
    user: Any,
    grade: str,
    channel: str = RatingChannel.MOBILE,
    options: Sequence[str] = (),
    comment: str = "",
) -> Rating:
    """二次评价 of a window service by the person served (known by login)."""
    service = _lock_service(service_id)
    if (
        not getattr(user, "is_authenticated", False)
        or service.served_user_id != user.pk
        or is_own_service(user, service)
    ):
        raise DomainError(_("只有服务对象本人可以追加评价"), code="not_rater")
    if not service.ratings.exists():
        raise DomainError(_("请先完成首次评价"), code="not_rated")
    rating = _create_rating(
        service=service,
        rater=user,
        grade=grade,
        channel=channel,
        options=options,
        comment=comment,
    )
    record_audit_event(
        actor=user,
        action="reviews.rate",
        obj=rating,
        data={"service": service.pk, "grade": grade, "sequence": 2},
    )
    return rating


@transaction.atomic(durable=True)
def apply_default_rating(*, service_id: int) -> Rating | None:
    """An unrated service becomes the policy's default grade (基本满意) with channel and source
    "system default" once its window has passed (DOMAIN.md §2.4). Idempotent."""
    service = _lock_service(service_id)
    if service.is_rated or timezone.now() < service.default_due_at:
        return None
    grade = policy_for(service.department.region).default_grade
    rating = _create_rating(
        service=service,
        rater=None,
        grade=grade,
        channel=RatingChannel.SYSTEM_DEFAULT,
        source=RatingSource.SYSTEM_DEFAULT,
    )
    record_audit_event(
        actor=None,
        action="reviews.default_rating",
        obj=rating,
        data={"service": service.pk, "grade": grade},
    )
    return rating


def apply_default_ratings(*, limit: int = 1000) -> int:
    """Beat entry: register completed cases, then default every overdue unrated service, one
    transaction each (a failure leaves the others done)."""
    register_completed_cases()
    ids = list(
        ServiceRecord.objects.filter(is_rated=False, default_due_at__lte=timezone.now())
        .order_by("default_due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for service_id in ids:
        if apply_default_rating(service_id=service_id) is not None:
            done += 1
    return done


@transaction.atomic(durable=True)
def moderate_comment(*, rating_id: int, user: Any, approve: bool) -> Rating:
    """A 管理机构 member releases or rejects a held comment; the grade is never touched."""
    rating = (
        Rating.objects.select_for_update(of=("self",))
        .select_related("service__department__region")
        .get(pk=rating_id)
    )
    if not is_authority_for(user, rating.service.department):
        raise DomainError(_("只有政务服务管理机构可以审核评价内容"), code="forbidden")
    if rating.moderation != ModerationStatus.HELD:
        raise DomainError(_("该评价不在待审核状态"), code="not_held")
    rating.moderation = ModerationStatus.APPROVED if approve else ModerationStatus.REJECTED
    rating.save(update_fields=["moderation", "updated_at"])
    record_audit_event(
        actor=user, action="reviews.moderate", obj=rating, data={"approved": approve}
    )
    return rating


# --- the bad-review loop ------------------------------------------------------------------


def _department_heads(department_id: int) -> list[int]:
    from apps.identity.models import StaffMembership

    return list(
        StaffMembership.objects.filter(
            department_id=department_id, role=StaffRole.DEPT_ADMIN, is_active=True
        ).values_list("user_id", flat=True)
    )


def _authority_members(department: Department) -> list[int]:
    """Members of the 政务服务管理机构 whose region contains ``department``."""
    from apps.cases.permissions import region_prefix
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


# --- appeals ------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def file_appeal(*, ticket_id: int, user: Any, ground: str, statement: str, evidence: str) -> Appeal:
    """申诉 by the responsible department (its administrator) within the appeal period, with
    evidence; the ticket is 申诉中 until the 政务服务管理机构 decides."""
    ticket = _lock_ticket(ticket_id)
    if not can_file_appeal(user, ticket):
        raise DomainError(_("只有责任部门的管理员可以申诉"), code="forbidden")
    if ground not in AppealGround.values:
        raise DomainError(_("请选择申诉理由"), code="invalid_ground")
    if not statement.strip() or not evidence.strip():
        raise DomainError(_("请填写申诉说明并提供证据材料"), code="evidence_required")
    if timezone.now() > ticket.appeal_due:
        raise DomainError(_("已超过申诉期限"), code="appeal_too_late")
    if ticket.appeals.exists():
        raise DomainError(_("该差评已申诉过，不能重复申诉"), code="already_appealed")
    previous = ticket.status
    _move(ticket, TicketStatus.APPEALED)
    ticket.appealed_from = previous
    ticket.save(update_fields=["status", "appealed_from", "updated_at"])
    appeal = Appeal(
        ticket=ticket,
        ground=ground,
        statement=mask_numbers(statement.strip()),
        evidence=mask_numbers(evidence.strip()),
        filed_by=user,
    )
    appeal.full_clean()
    appeal.save()
    notify_users(
        recipients=_authority_members(ticket.department),
        key=f"reviews:appeal:{appeal.pk}",
        kind="reviews.appeal",
        title=_("有新的差评申诉待复核"),
        url=f"/office/reviews/appeals/{appeal.pk}/",
    )
    record_audit_event(
        actor=user,
        action="reviews.appeal",
        obj=appeal,
        data={"ticket": ticket.pk, "ground": ground},
    )
    return appeal


@transaction.atomic(durable=True)
def decide_appeal(*, appeal_id: int, user: Any, upheld: bool, note: str) -> Appeal:
    """复核 by the 政务服务管理机构 only (never the department itself). Upheld: the rating and
    its ticket leave the statistics (``is_excluded``); every row and the audit trail stay."""
    appeal = (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("ticket__department__region")
        .filter(pk=appeal_id)
        .first()
    )
    if appeal is None:
        raise DomainError(_("申诉不存在"), code="not_found")
    if not is_authority_for(user, appeal.ticket.department):
        raise DomainError(_("申诉只能由政务服务管理机构复核"), code="forbidden")
    if appeal.status != AppealStatus.PENDING:
        raise DomainError(_("该申诉已复核"), code="already_decided")
    if not note.strip():
        raise DomainError(_("请填写复核意见"), code="note_required")
    ticket = _lock_ticket(appeal.ticket_id)
    rating = Rating.objects.select_for_update(of=("self",)).get(pk=ticket.rating_id)
    ticket.rating = rating
    service = rating.service
    keys = rollups.rating_keys(service, rating.channel)
    before = (
        rollups.rating_contribution(rating)
        + _ticket_snapshot(ticket)
        + rollups.appeal_contribution(appeal)
    )
    appeal.status = AppealStatus.UPHELD if upheld else AppealStatus.REJECTED
    appeal.decided_by = user
    appeal.decided_at = timezone.now()
    appeal.decision_note = note.strip()
    appeal.save()
    if upheld:
        _move(ticket, TicketStatus.APPEAL_UPHELD)
        rating.is_excluded = True
        rating.save(update_fields=["is_excluded", "updated_at"])
    else:
        _move(ticket, ticket.appealed_from)
    ticket.save(update_fields=["status", "updated_at"])
    after = (
        rollups.rating_contribution(rating)
        + _ticket_snapshot(ticket)
        + rollups.appeal_contribution(appeal)
    )
    rollups.apply_change(keys, service.period, before, after)
    if upheld:
        national.push_ticket_result(ticket)
    notify_users(
        recipients=_department_heads(ticket.department_id),
        key=f"reviews:appeal:{appeal.pk}:decided",
        kind="reviews.appeal",
        title=_("差评申诉已复核：%(r)s") % {"r": appeal.get_status_display()},
        url=f"/office/reviews/tickets/{ticket.pk}/",
    )
    record_audit_event(
        actor=user,
        action="reviews.decide_appeal",
        obj=appeal,
        data={"upheld": upheld, "ticket": ticket.pk, "rating": rating.pk},
    )
    return appeal


def is_department_member(user: Any, department_id: int) -> bool:
    return is_staff_of(user, department_id)
