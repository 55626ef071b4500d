"""采购公告: posting, review and publication, registration of agencies, the owner's nonce."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.identity.models import Enterprise
from apps.marketplace import drawing
from apps.marketplace.constants import (
    BidMode,
    DrawPurpose,
    DrawStatus,
    ProjectStatus,
    SelectionMethod,
)
from apps.marketplace.models import Agency, Draw, IntermediaryService, Project, Registration
from apps.marketplace.permissions import (
    can_act_for_enterprise,
    can_manage_project,
    has_level_three,
    is_operator,
)
from apps.marketplace.services.common import (
    clean_requirements,
    eligibility_problem,
    eligible_agencies,
    setting,
)
from apps.notifications.services import notify_users

DRAW_METHODS = (SelectionMethod.RANDOM, SelectionMethod.CREDIT)


def validate_requirements(
    service: IntermediaryService, requirements: Iterable[Mapping[str, Any]]
) -> list[dict]:
    """The project's qualification requirements, refused with the reason when any is stricter
    than the law: a qualification the list does not require, or a higher grade than it
    requires, is an added barrier (DOMAIN.md §6.2 3, 不得设置附加条件)."""
    cleaned = clean_requirements(requirements)
    legal = service.legal_requirements()
    reasons: list[str] = []
    for row in cleaned:
        if row["code"] not in legal:
            reasons.append(
                _("「%(name)s」不是该中介服务的法定资质要求，属于额外设置的门槛")
                % {"name": row["name"]}
            )
        elif row["min_grade"] > legal[row["code"]]:
            reasons.append(_("「%(name)s」的等级要求高于法定要求") % {"name": row["name"]})
    if reasons:
        raise DomainError("；".join(reasons), code="added_barrier")
    # The legal minimum always applies, whether or not the owner restated it.
    restated = {row["code"] for row in cleaned}
    return cleaned + [q for q in service.required_qualifications if q["code"] not in restated]


def _check_method(
    *,
    method: str,
    budget: Decimal,
    direct_reason: str,
    big_list_size: int,
    small_list_size: int,
    bid_rounds: int,
    bid_round_minutes: int,
    rubric: Mapping[str, int],
) -> None:
    if method not in SelectionMethod.values:
        raise DomainError(_("请选择选取方式"), code="invalid")
    if method == SelectionMethod.DIRECT:
        # 直接选取 only for small amounts or special cases, with the reason recorded ○.
        limit = Decimal(setting("MARKETPLACE_DIRECT_SELECTION_LIMIT", 50000))
        if budget > limit:
            raise DomainError(
                _("预算超过 %(limit)s 元的项目不得直接选取") % {"limit": limit},
                code="direct_not_allowed",
            )
        if not direct_reason.strip():
            raise DomainError(_("直接选取须说明理由"), code="reason_required")
    if method == SelectionMethod.CREDIT and not (2 <= small_list_size <= big_list_size):
        raise DomainError(
            _("信用择优须设置大名单和小名单数量（小名单至少2家，且不多于大名单）"),
            code="invalid",
        )
    if method == SelectionMethod.BIDDING and not (
        1 <= bid_rounds <= 5 and 1 <= bid_round_minutes <= 120
    ):
        raise DomainError(_("竞价须设置1至5轮，每轮1至120分钟"), code="invalid")
    if method == SelectionMethod.PROPOSAL:
        weights = list(rubric.values())
        if not weights or any(int(w) <= 0 for w in weights) or sum(int(w) for w in weights) != 100:
            raise DomainError(_("评分细则各项权重须为正数且合计100"), code="invalid")


@transaction.atomic(durable=True)
def submit_project(
    *,
    user: Any,
    enterprise: Enterprise | None,
    service: IntermediaryService,
    name: str,
    scope: str,
    requirements: Iterable[Mapping[str, Any]],
    budget: Decimal,
    time_limit_days: int,
    method: str,
    registration_closes_at: datetime,
    selection_at: datetime,
    is_fiscal_funded: bool = False,
    contact: str = "",
    direct_reason: str = "",
    big_list_size: int = 0,
    small_list_size: int = 0,
    bid_rounds: int = 0,
    bid_round_minutes: int = 0,
    rubric: Mapping[str, int] | None = None,
    bid_mode: str = BidMode.SEALED,
) -> Project:
    """The owner posts a project; it waits for the operator's review."""
    if enterprise is not None and not can_act_for_enterprise(user, enterprise):
        raise DomainError(_("您无权代表该单位发布项目"), code="forbidden")
    if enterprise is None and not has_level_three(user):
        raise DomainError(_("发布项目须完成实名等级三级认证"), code="forbidden")
    if not service.is_published:
        raise DomainError(_("该中介服务事项未公布"), code="invalid")
    if not name.strip() or not scope.strip():
        raise DomainError(_("请填写项目名称和服务范围"), code="invalid")
    if budget <= 0 or time_limit_days <= 0:
        raise DomainError(_("预算和服务时限须大于零"), code="invalid")
    now = timezone.now()
    if method != SelectionMethod.DIRECT and registration_closes_at <= now:
        raise DomainError(_("报名截止时间须晚于当前时间"), code="invalid")
    if selection_at < registration_closes_at:
        raise DomainError(_("选取时间不得早于报名截止时间"), code="invalid")
    rubric = dict(rubric or {})
    _check_method(
        method=method,
        budget=budget,
        direct_reason=direct_reason,
        big_list_size=big_list_size,
        small_list_size=small_list_size,
        bid_rounds=bid_rounds,
        bid_round_minutes=bid_round_minutes,
        rubric=rubric,
    )
    if bid_mode not in BidMode.values:
        raise DomainError(_("竞价方式无效"), code="invalid")
    cleaned = validate_requirements(service, requirements)
    person = getattr(user, "person", None)
    project = Project.objects.create(
        number=f"ZJ{now:%Y%m%d}{secrets.token_hex(3).upper()}",
        name=name.strip(),
        service=service,
        scope=scope.strip(),
        owner_user=user,
        owner_enterprise=enterprise,
        owner_name=enterprise.name if enterprise else (person.name if person else str(user)),
        contact=contact.strip(),
        qualification_requirements=cleaned,
        budget=budget,
        time_limit_days=time_limit_days,
        is_fiscal_funded=is_fiscal_funded,
        method=method,
        direct_reason=direct_reason.strip(),
        registration_closes_at=registration_closes_at,
        selection_at=selection_at,
        big_list_size=big_list_size,
        small_list_size=small_list_size,
        bid_rounds=bid_rounds,
        bid_round_minutes=bid_round_minutes,
        bid_mode=bid_mode if method == SelectionMethod.BIDDING else BidMode.SEALED,
        rubric={str(k): int(v) for k, v in rubric.items()},
        status=ProjectStatus.SUBMITTED,
    )
    record_audit_event(
        actor=user,
        action="marketplace.project_submitted",
        obj=project,
        data={
            "number": project.number,
            "method": method,
            "service": service.code,
            "owner_uscc": enterprise.uscc if enterprise else None,
        },
    )
    return project


@transaction.atomic(durable=True)
def review_project(*, operator: Any, project_id: int, approve: bool, note: str = "") -> Project:
    """Operator review. Publishing a draw-based project publishes the draw's commitment
    (DOMAIN.md §6.4) before anyone can register, and notifies eligible agencies."""
    if not is_operator(operator):
        raise DomainError(_("只有运营机构可以审核项目"), code="forbidden")
    project = Project.objects.select_for_update().select_related("service").get(pk=project_id)
    if project.status != ProjectStatus.SUBMITTED:
        raise DomainError(_("该项目不在待审核状态"), code="invalid_state")
    now = timezone.now()
    project.review_note = note.strip()
    if not approve:
        if not project.review_note:
            raise DomainError(_("退回须说明理由"), code="reason_required")
        project.status = ProjectStatus.RETURNED
        project.save(update_fields=["status", "review_note", "updated_at"])
        record_audit_event(
            actor=operator, action="marketplace.project_returned", obj=project, data={"note": note}
        )
        return project
    direct = project.method == SelectionMethod.DIRECT
    if not direct and project.registration_closes_at <= now:
        raise DomainError(_("报名截止时间已过，请退回业主修改"), code="too_late")
    project.status = ProjectStatus.SELECTING if direct else ProjectStatus.REGISTERING
    project.published_at = now
    project.save(update_fields=["status", "published_at", "review_note", "updated_at"])
    data: dict[str, Any] = {"number": project.number}
    if project.method in DRAW_METHODS:
        seed = secrets.token_hex(32)
        draw = Draw.objects.create(
            project=project,
            purpose=(
                DrawPurpose.WINNER
                if project.method == SelectionMethod.RANDOM
                else DrawPurpose.SHORTLIST
            ),
            algorithm_version=drawing.ALGORITHM_VERSION,
            server_seed=seed,
            seed_commitment=drawing.seed_commitment(seed),
            committed_at=now,
        )
        data.update(commitment=draw.seed_commitment, algorithm=draw.algorithm_version)
    if not direct:
        recipients = [a.submitted_by_id for a in eligible_agencies(project.service, now.date())]
        notify_users(
            recipients=recipients,
            key=f"marketplace.project_published:{project.pk}",
            kind="marketplace.project_published",
            title=_("新的中介服务采购公告：%(name)s") % {"name": project.name},
            body=_("报名截止：%(at)s") % {"at": timezone.localtime(project.registration_closes_at)},
            url=f"/marketplace/projects/{project.pk}/",
        )
    record_audit_event(
        actor=operator, action="marketplace.project_published", obj=project, data=data
    )
    return project


@transaction.atomic(durable=True)
def register_for_project(
    *,
    user: Any,
    project_id: int,
    agency_id: int,
    quoted_price: Decimal | None = None,
    proposal: str = "",
) -> Registration:
    """报名: an eligible agency registers before the close (server time decides)."""
    agency = Agency.objects.select_related("enterprise").get(pk=agency_id)
    if not can_act_for_enterprise(user, agency.enterprise):
        raise DomainError(_("您无权代表该机构报名"), code="forbidden")
    project = Project.objects.select_for_update().select_related("service").get(pk=project_id)
    if not project.is_open_for_registration:
        raise DomainError(_("该项目不在报名期内"), code="registration_closed")
    problem = eligibility_problem(agency, project.service, timezone.localdate())
    if problem:
        raise DomainError(problem, code="not_eligible")
    if project.method == SelectionMethod.PROPOSAL and (
        quoted_price is None or not proposal.strip()
    ):
        raise DomainError(_("方案择优项目须报价并提交服务方案"), code="invalid")
    if quoted_price is not None and not (0 < quoted_price <= project.budget):
        raise DomainError(_("报价须大于零且不超过最高限价"), code="invalid_price")
    try:
        with transaction.atomic():
            registration = Registration.objects.create(
                project=project,
                agency=agency,
                acting_user=user,
                quoted_price=quoted_price,
                proposal=proposal.strip(),
            )
    except IntegrityError as exc:
        raise DomainError(_("该机构已报名本项目"), code="already_registered") from exc
    record_audit_event(
        actor=user,
        action="marketplace.registered",
        obj=registration,
        data={"project": project.number, "uscc": agency.uscc},
    )
    return registration


@transaction.atomic(durable=True)
def set_owner_nonce(*, user: Any, project_id: int, nonce: str) -> Draw:
    """The owner's contribution to the draw seed, accepted until the draw runs."""
    project = Project.objects.select_related("owner_enterprise").get(pk=project_id)
    if not can_manage_project(user, project):
        raise DomainError(_("只有项目业主可以设置随机数"), code="forbidden")
    nonce = nonce.strip()
    if not (1 <= len(nonce) <= 64) or not nonce.isprintable():
        raise DomainError(_("随机数须为1至64个可打印字符"), code="invalid")
    draw = Draw.objects.select_for_update().filter(project=project).first()
    if draw is None or draw.status == DrawStatus.DRAWN:
        raise DomainError(_("该项目没有待进行的摇号"), code="invalid_state")
    draw.owner_nonce = nonce
    draw.save(update_fields=["owner_nonce", "updated_at"])
    record_audit_event(actor=user, action="marketplace.owner_nonce_set", obj=draw)
    return draw
