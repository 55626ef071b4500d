"""中选公示 and 异议 (DOMAIN.md §6.2 6): the award notice stays in publicity for
``MARKETPLACE_AWARD_PUBLICITY_DAYS`` (a local rule ○, default 3 days); during it any other
registrant may object; the operator answers each objection before its reply deadline
(``MARKETPLACE_OBJECTION_REPLY_DAYS``, default 3 days). The contract opens only when the
period has ended and no objection is pending — by beat (``marketplace.end_award_publicity``),
or at once when the last objection is dismissed after the end. An upheld objection annuls the
award: the project fails with the reason and the owner may post it again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.marketplace.constants import ObjectionStatus, ProjectStatus
from apps.marketplace.models import Agency, Contract, Objection, Project
from apps.marketplace.permissions import can_act_for_enterprise, is_operator
from apps.marketplace.services.aftercare import open_contract
from apps.marketplace.services.common import setting
from apps.notifications.services import notify_users

REASON_MIN_LENGTH = 10


def publicity_end(awarded_at):
    return awarded_at + timedelta(days=setting("MARKETPLACE_AWARD_PUBLICITY_DAYS", 3))


def operator_ids() -> list[int]:
    """Everyone holding the operator permission, directly or through a group."""
    permission = Permission.objects.filter(
        codename="operate_marketplace", content_type__app_label="marketplace"
    )
    return list(
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(user_permissions__in=permission) | Q(groups__permissions__in=permission))
        .values_list("pk", flat=True)
        .distinct()
    )


def _pending() -> Exists:
    return Exists(Objection.objects.filter(project=OuterRef("pk"), status=ObjectionStatus.PENDING))


def projects_due_for_contract(now) -> list[int]:
    """Awarded projects whose publicity has ended with no pending objection and no contract."""
    return list(
        Project.objects.filter(
            status=ProjectStatus.AWARDED,
            award_publicity_ends_at__lte=now,
            contract__isnull=True,
        )
        .exclude(_pending())
        .values_list("pk", flat=True)
    )


def _open_contract_if_due(project: Project, *, actor: Any) -> Contract | None:
    """In the caller's transaction, with ``project`` locked."""
    now = timezone.now()
    if (
        project.status != ProjectStatus.AWARDED
        or project.award_publicity_ends_at is None
        or project.award_publicity_ends_at > now
        or Contract.objects.filter(project=project).exists()
        or project.objections.filter(status=ObjectionStatus.PENDING).exists()
    ):
        return None
    contract = open_contract(project)
    notify_users(
        recipients=[project.owner_user_id, project.winner.submitted_by_id],
        key=f"marketplace.contract_open:{project.pk}",
        kind="marketplace.contract_open",
        title=_("中选公示期满，请签订合同：%(name)s") % {"name": project.name},
        body=_("请在 %(date)s 前在线确认合同。")
        % {"date": timezone.localtime(contract.sign_by).strftime("%Y-%m-%d %H:%M")},
        url=f"/marketplace/projects/{project.pk}/",
    )
    record_audit_event(
        actor=actor,
        action="marketplace.award_publicity_ended",
        obj=project,
        data={"contract": contract.pk, "sign_by": contract.sign_by.isoformat()},
    )
    return contract


def _lock_project(project_id: int) -> Project | None:
    return (
        Project.objects.select_for_update(of=("self",))
        .select_related("winner__enterprise")
        .filter(pk=project_id)
        .first()
    )


def end_award_publicity(*, project_id: int) -> bool:
    """Beat: the publicity period is over and nothing is pending — open the contract.
    Idempotent (a second run finds the contract and does nothing)."""
    with transaction.atomic():
        project = _lock_project(project_id)
        if project is None:
            return False
        return _open_contract_if_due(project, actor=None) is not None


@transaction.atomic(durable=True)
def raise_objection(*, user: Any, project_id: int, agency_id: int, reason: str) -> Objection:
    """异议: a registrant other than the winner, acting for its agency, within the period."""
    project = _lock_project(project_id)
    if project is None:
        raise DomainError(_("项目不存在"), code="not_found")
    agency = Agency.objects.select_related("enterprise").filter(pk=agency_id).first()
    if agency is None or not can_act_for_enterprise(user, agency.enterprise):
        raise DomainError(_("您无权代表该机构提出异议"), code="forbidden")
    if project.status != ProjectStatus.AWARDED or project.award_publicity_ends_at is None:
        raise DomainError(_("该项目没有处于公示期的中选结果"), code="invalid_state")
    now = timezone.now()
    if now >= project.award_publicity_ends_at:
        raise DomainError(_("中选公示期已结束，不能再提出异议"), code="too_late")
    if not project.registrations.filter(agency=agency).exists():
        raise DomainError(_("只有报名参加本项目的机构可以提出异议"), code="not_registered")
    if agency.pk == project.winner_id:
        raise DomainError(_("中选机构不能对本机构的中选结果提出异议"), code="forbidden")
    reason = reason.strip()
    if len(reason) < REASON_MIN_LENGTH:
        raise DomainError(
            _("请写明异议事由和依据（不少于%(n)s个字）") % {"n": REASON_MIN_LENGTH},
            code="invalid",
        )
    if project.objections.filter(agency=agency, status=ObjectionStatus.PENDING).exists():
        raise DomainError(_("本机构已有待处理的异议，请等待答复"), code="already_pending")
    objection = Objection.objects.create(
        project=project,
        agency=agency,
        raised_by=user,
        reason=reason[:2000],
        reply_due_at=now + timedelta(days=setting("MARKETPLACE_OBJECTION_REPLY_DAYS", 3)),
    )
    notify_users(
        recipients=[*operator_ids(), project.owner_user_id],
        key=f"marketplace.objection:{objection.pk}",
        kind="marketplace.objection",
        title=_("中选结果收到异议：%(name)s") % {"name": project.name},
        body=_("答复期限：%(date)s")
        % {"date": timezone.localtime(objection.reply_due_at).strftime("%Y-%m-%d %H:%M")},
        url="/office/marketplace/",
    )
    record_audit_event(
        actor=user,
        action="marketplace.objection_raised",
        obj=objection,
        data={"project": project.number, "uscc": agency.uscc},
    )
    return objection


@transaction.atomic(durable=True)
def handle_objection(*, operator: Any, objection_id: int, uphold: bool, reply: str) -> Objection:
    """The operator answers. Upheld: the award is annulled and the project fails with the
    reason (other pending objections end with it). Dismissed: when the period is over and
    nothing else is pending, the contract opens now."""
    if not is_operator(operator):
        raise DomainError(_("只有运营机构可以处理异议"), code="forbidden")
    # The project first, then the objection: the same order as raise_objection and as an
    # upheld objection closing the project's other pending ones (no lock cycle).
    project_id = Objection.objects.filter(pk=objection_id).values_list("project_id", flat=True)
    project = _lock_project(project_id.first() or 0)
    objection = (
        Objection.objects.select_for_update().select_related("agency").filter(pk=objection_id)
    ).first()
    if project is None or objection is None:
        raise DomainError(_("异议不存在"), code="not_found")
    if objection.status != ObjectionStatus.PENDING:
        raise DomainError(_("该异议已处理"), code="invalid_state")
    reply = reply.strip()
    if not reply:
        raise DomainError(_("请填写处理意见"), code="invalid")
    now = timezone.now()
    objection.status = ObjectionStatus.UPHELD if uphold else ObjectionStatus.DISMISSED
    objection.reply = reply[:2000]
    objection.handled_by = operator
    objection.handled_at = now
    objection.save(update_fields=["status", "reply", "handled_by", "handled_at", "updated_at"])
    record_audit_event(
        actor=operator,
        action="marketplace.objection_handled",
        obj=objection,
        data={"upheld": uphold, "late": now > objection.reply_due_at, "reply": objection.reply},
    )
    if uphold:
        _annul_award(project, objection, operator)
    else:
        _open_contract_if_due(project, actor=operator)
    notify_users(
        recipients=[objection.raised_by_id, objection.agency.submitted_by_id],
        key=f"marketplace.objection_handled:{objection.pk}",
        kind="marketplace.objection_handled",
        title=_("异议处理结果：%(status)s") % {"status": objection.get_status_display()},
        body=objection.reply,
        url=f"/marketplace/projects/{project.pk}/",
    )
    return objection


def _annul_award(project: Project, objection: Objection, operator: Any) -> None:
    previous = project.winner
    project.objections.filter(status=ObjectionStatus.PENDING).update(
        status=ObjectionStatus.CLOSED, handled_at=timezone.now(), handled_by=operator
    )
    project.status = ProjectStatus.FAILED
    reason = _("中选结果异议成立，原中选机构%(agency)s的中选无效：%(reply)s") % {
        "agency": previous.enterprise.name if previous else "",
        "reply": objection.reply,
    }
    project.failure_reason = reason[:300]
    project.save(update_fields=["status", "failure_reason", "updated_at"])
    notify_users(
        recipients=[project.owner_user_id, previous.submitted_by_id if previous else None],
        key=f"marketplace.award_annulled:{project.pk}",
        kind="marketplace.award_annulled",
        title=_("中选结果已撤销：%(name)s") % {"name": project.name},
        body=project.failure_reason,
        url=f"/marketplace/projects/{project.pk}/",
    )
    record_audit_event(
        actor=operator,
        action="marketplace.award_annulled",
        obj=project,
        data={"uscc": previous.uscc if previous else "", "objection": objection.pk},
    )


def remind_overdue_objections(now) -> int:
    """Beat: pending objections past their reply deadline are flagged to the operators once."""
    overdue = list(
        Objection.objects.filter(
            status=ObjectionStatus.PENDING, reply_due_at__lte=now, overdue_notified_at__isnull=True
        ).select_related("project")
    )
    if not overdue:
        return 0
    operators = operator_ids()
    for objection in overdue:
        with transaction.atomic():
            locked = (
                Objection.objects.select_for_update()
                .filter(pk=objection.pk, overdue_notified_at__isnull=True)
                .first()
            )
            if locked is None:
                continue
            locked.overdue_notified_at = now
            locked.save(update_fields=["overdue_notified_at", "updated_at"])
            notify_users(
                recipients=operators,
                key=f"marketplace.objection_overdue:{objection.pk}",
                kind="marketplace.objection_overdue",
                title=_("异议已超过答复期限：%(name)s") % {"name": objection.project.name},
                url="/office/marketplace/",
            )
            record_audit_event(
                actor=None, action="marketplace.objection_overdue", obj=locked, data={}
            )
    return len(overdue)
