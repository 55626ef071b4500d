"""The national 好差评 push (DOMAIN.md §2.3 field table): every rating and every ticket result
goes to the national system through the handoff outbox (signed, retried, idempotent).

The national system is addressed as a department (``settings.REVIEWS_NATIONAL_TARGET_USCC``,
configured like any department endpoint at /office/handoffs/endpoint/); with no target set,
nothing is pushed. The payload never carries the rater's name, ID or phone number.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.core.models import Department
from apps.handoffs.services import enqueue_handoff
from apps.reviews.constants import (
    CHANNEL_CODES,
    NATIONAL_APP_STATUS,
    NATIONAL_CODE,
    ModerationStatus,
    RatingSource,
)
from apps.reviews.models import Rating, RectificationTicket

# 办件状态 proStatus: 1 待办理, 2 办理中, 3 已办结.
PRO_STATUS_DONE = "3"
PRO_STATUS_IN_PROGRESS = "2"  # an earlier node (受理, 补正告知 …) was rated
PUBLIC_MODERATION = (ModerationStatus.NOT_NEEDED, ModerationStatus.APPROVED)
# 评价地址网络 type: 1 互联网.
NETWORK_INTERNET = "1"


def _target() -> Department | None:
    uscc = settings.REVIEWS_NATIONAL_TARGET_USCC
    return Department.objects.filter(uscc=uscc).first() if uscc else None


def _stamp(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y%m%d%H%M%S")


def rating_payload(rating: Rating) -> dict[str, Any]:
    """One rating in the national interface's field names (DOMAIN.md §2.3)."""
    service = rating.service
    case = service.case or service.node_case
    channels = CHANNEL_CODES[settings.REVIEWS_CHANNEL_VARIANT]
    return {
        "pf": channels[rating.channel],
        "satisfaction": str(NATIONAL_CODE[rating.grade]),
        "evalDetail": ",".join(rating.options),
        # Held text is not sent until released; text kept hidden is never sent.
        "writingEvaluation": rating.comment if rating.moderation in PUBLIC_MODERATION else "",
        "assessNumber": str(rating.sequence),
        "appStatus": NATIONAL_APP_STATUS[rating.moderation],
        "anonymityFlag": "1" if rating.is_anonymous else "2",
        "userProp": "2" if case is not None and case.enterprise_id else "1",
        "isDefault": "1" if rating.source == RatingSource.SYSTEM_DEFAULT else "2",
        "projectNo": case.number if case is not None else f"W{service.pk}",
        "proStatus": PRO_STATUS_IN_PROGRESS if service.node else PRO_STATUS_DONE,
        "taskCode": service.item_code,
        "taskName": service.item_name or service.summary,
        "proDepart": service.department.name,
        "proDepartId": service.department.uscc,
        "hallCode": service.hall.code if service.hall_id else "",
        "windowNo": service.window.number if service.window_id else "",
        "workNo": str(service.staff_id or ""),
        "areaCode": service.region.code,
        "type": NETWORK_INTERNET,
        "evalTime": _stamp(rating.created_at),
        "dataSource": settings.REVIEWS_DATA_SOURCE,
        "evaluateId": f"GP-{rating.pk}",
    }


def push_rating(rating: Rating) -> None:
    """Outbox row for one rating (in the caller's transaction)."""
    target = _target()
    if target is None:
        return
    enqueue_handoff(
        subject=rating,
        event="reviews.rating",
        source_department=rating.service.department,
        target_department=target,
        payload=rating_payload(rating),
        idempotency_key=f"reviews-rating-{rating.pk}",
    )


def push_moderation(rating: Rating) -> None:
    """The rating again once its held text is decided (appStatus 2 已审核; the text only when
    released), once per decision."""
    target = _target()
    if target is None:
        return
    enqueue_handoff(
        subject=rating,
        event="reviews.rating",
        source_department=rating.service.department,
        target_department=target,
        payload=rating_payload(rating),
        idempotency_key=f"reviews-rating-{rating.pk}-{rating.moderation}",
    )


def push_ticket_result(ticket: RectificationTicket) -> None:
    """Outbox row for a ticket's result (rectified / closed / appeal upheld), once per state."""
    target = _target()
    if target is None:
        return
    enqueue_handoff(
        subject=ticket,
        event="reviews.rectification",
        source_department=ticket.department,
        target_department=target,
        payload={
            "evaluateId": f"GP-{ticket.rating_id}",
            "rectifyStatus": ticket.status,
            "rectifyMeasure": ticket.measures,
            "rectifyResult": ticket.result,
            "rectifyTime": _stamp(ticket.rectified_at) if ticket.rectified_at else "",
            "feedback": ticket.rater_answer,
            "isOnTime": "1" if ticket.is_rectified_on_time else "2",
        },
        idempotency_key=f"reviews-ticket-{ticket.pk}-{ticket.status}",
    )
