"""Appeals (申诉) by the responsible department, decided by the 政务服务管理机构."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core import uploads
from apps.core.exceptions import DomainError
from apps.notifications.services import notify_users
from apps.reviews import national, rollups
from apps.reviews.constants import (
    AppealGround,
    AppealStatus,
    TicketStatus,
)
from apps.reviews.models import (
    Appeal,
    AppealEvidence,
    Rating,
)
from apps.reviews.permissions import (
    can_file_appeal,
    is_authority_for,
)
from apps.reviews.services.tickets import (
    _authority_members,
    _department_heads,
    _lock_ticket,
    _move,
    _ticket_snapshot,
)
from apps.reviews.text import mask_numbers


def file_appeal(
    *,
    ticket_id: int,
    user: Any,
    ground: str,
    statement: str,
    evidence: str = "",
    files: Sequence[Any] = (),
) -> Appeal:
    """申诉 by the responsible department (its administrator) within the appeal period, with
    evidence (a description, files, or both); the ticket is 申诉中 until the 政务服务管理机构
    decides.

    Files are checked like case materials (type sniffed from the content, size bounded, at
    most ``REVIEWS_APPEAL_MAX_FILES``) before anything is written, stored privately under
    random names, and removed again if the appeal is refused.
    """
    files = [f for f in files if f]
    if len(files) > settings.REVIEWS_APPEAL_MAX_FILES:
        raise DomainError(
            _("证据文件最多 %(n)d 个") % {"n": settings.REVIEWS_APPEAL_MAX_FILES},
            code="too_many_files",
        )
    checked = [(upload, uploads.check_upload(upload)) for upload in files]
    storage = uploads.case_file_storage()
    stored: list[tuple[str, uploads.CheckedUpload]] = []
    try:
        for upload, check in checked:
            name = storage.save(f"reviews/{uploads.stored_name(check)}", upload)
            stored.append((name, check))
        return _file_appeal(
            ticket_id=ticket_id,
            user=user,
            ground=ground,
            statement=statement,
            evidence=evidence,
            stored=stored,
        )
    except Exception:
        # A refusal must not leave orphan files behind.
        for name, _check in stored:
            storage.delete(name)
        raise


@transaction.atomic(durable=True)
def _file_appeal(
    *,
    ticket_id: int,
    user: Any,
    ground: str,
    statement: str,
    evidence: str,
    stored: Sequence[tuple[str, uploads.CheckedUpload]],
) -> Appeal:
    ticket = _lock_ticket(ticket_id)
    if not can_file_appeal(user, ticket):
        raise DomainError(_("只有责任部门的管理员可以申诉"), code="forbidden")
    if ground not in AppealGround.values:
        raise DomainError(_("请选择申诉理由"), code="invalid_ground")
    if not statement.strip() or not (evidence.strip() or stored):
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
    AppealEvidence.objects.bulk_create(
        AppealEvidence(
            appeal=appeal,
            file=name,
            original_name=check.original_name,
            content_type=check.content_type,
            size=check.size,
            sha256=check.sha256,
            uploaded_by=user,
        )
        for name, check in stored
    )
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
        data={"ticket": ticket.pk, "ground": ground, "files": [c.sha256 for _n, c in stored]},
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
