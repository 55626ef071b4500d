"""Ratings: 一事一评 on a case, 一次一评 on the pad or QR, 二次评价, system defaults and the
moderation of held comments."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.cases.models import Case
from apps.core.exceptions import DomainError
from apps.reviews import national, rollups
from apps.reviews.config import policy_for
from apps.reviews.constants import (
    CITIZEN_CHANNELS,
    COMMENT_MAX,
    Grade,
    ModerationStatus,
    RatingChannel,
    RatingSource,
    ReviewNode,
    channel_kind,
    is_bad,
)
from apps.reviews.models import (
    IndicatorOption,
    IndicatorSet,
    ModerationWord,
    Rating,
    ServiceRecord,
)
from apps.reviews.permissions import (
    can_rate_case_service,
    is_authority_for,
    is_own_service,
)
from apps.reviews.services.records import (
    RATEABLE_CASE_STATES,
    _case_service,
    _node_service,
    register_completed_cases,
    service_for_pad_token,
)
from apps.reviews.services.tickets import _open_ticket
from apps.reviews.text import held_words, mask_numbers


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
    audit_actor: Any | None = None,
    audit_action: str = "reviews.rate",
    audit_data: dict[str, Any] | None = None,
) -> Rating:
    """The shared part of every rating, audit event included (the caller holds the service
    lock). ``audit_data`` adds the caller's context (case, node, service) to the grade and
    sequence every rating event carries."""
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
    record_audit_event(
        actor=audit_actor,
        action=audit_action,
        obj=rating,
        data={**(audit_data or {}), "grade": grade, "sequence": rating.sequence},
    )
    return rating


def _lock_case(case_id: int) -> Case:
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("item_version", "department__region", "enterprise")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise DomainError(_("办件不存在"), code="not_found")
    return case


def _check_case_rater(user: Any, service: ServiceRecord) -> None:
    if not can_rate_case_service(user, service):
        raise DomainError(
            _("只有本件的申请人或经办人可以评价，工作人员不能评价本部门的服务"), code="not_rater"
        )


def _lock_service(service_id: int) -> ServiceRecord:
    return (
        ServiceRecord.objects.select_for_update(of=("self",))
        .select_related("department__region", "case", "node_case")
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
    case = _lock_case(case_id)
    if case.status not in RATEABLE_CASE_STATES:
        raise DomainError(_("办件办结后才能评价"), code="not_completed")
    service = _lock_service(_case_service(case).pk)
    _check_case_rater(user, service)
    rating = _create_rating(
        service=service,
        rater=user,
        grade=grade,
        channel=channel,
        options=options,
        comment=comment,
        is_anonymous=is_anonymous,
        audit_actor=user,
        audit_data={"case": case.pk},
    )
    return rating


@transaction.atomic(durable=True)
def rate_case_node(
    *,
    case_id: int,
    user: Any,
    node: str,
    grade: str,
    channel: str = RatingChannel.PC,
    options: Sequence[str] = (),
    comment: str = "",
    is_anonymous: bool = True,
) -> Rating:
    """一事一评 of an earlier node (受理, 补正告知 …) where the region's policy opens it: the
    applicant or acting agent rates the node once while the case is at it. The node is a
    service of its own in the statistics; a 差评 opens a ticket as for any rating."""
    case = _lock_case(case_id)
    if (
        node not in ReviewNode.values
        or node not in policy_for(case.department.region).rateable_nodes
    ):
        raise DomainError(_("该办理环节不开放评价"), code="node_not_rateable")
    if case.status != node:
        raise DomainError(_("办件不在该办理环节，不能评价该环节"), code="not_at_node")
    service = _lock_service(_node_service(case, node).pk)
    _check_case_rater(user, service)
    if service.ratings.exists():
        raise DomainError(_("该办理环节已评价"), code="already_rated")
    rating = _create_rating(
        service=service,
        rater=user,
        grade=grade,
        channel=channel,
        options=options,
        comment=comment,
        is_anonymous=is_anonymous,
        audit_actor=user,
        audit_data={"case": case.pk, "node": node},
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
        audit_data={"service": service.pk},
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
        audit_actor=user,
        audit_data={"service": service.pk},
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
        audit_action="reviews.default_rating",
        audit_data={"service": service.pk},
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
    """A 管理机构 member releases a held comment (public from then on) or keeps it hidden;
    the grade, which always counted, is never touched. Audited; pushed to the national system
    once per decision."""
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
    national.push_moderation(rating)
    record_audit_event(
        actor=user, action="reviews.moderate", obj=rating, data={"approved": approve}
    )
    return rating
