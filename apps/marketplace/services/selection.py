"""选取: closing registration, the draw, each selection method and the award (DOMAIN.md §6.2 5).

Beat calls ``dispatch_due_projects`` every minute; it enqueues ``marketplace.close_registration``
and ``marketplace.run_selection`` by name for projects whose announced time has come, and
``marketplace.end_award_publicity`` for awards whose 公示 period is over. The tasks lock the
project row and return early unless the project is still in the state they act on, so a second
run (retry, overlapping beat) changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.models import AuditChainHead
from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.core.queue import enqueue
from apps.marketplace import beacon, drawing
from apps.marketplace.constants import BidMode, DrawStatus, ProjectStatus, SelectionMethod
from apps.marketplace.models import Agency, Bid, Draw, Project, Registration
from apps.marketplace.permissions import can_act_for_enterprise, can_manage_project
from apps.marketplace.services.award import (
    projects_due_for_contract,
    publicity_end,
    remind_overdue_objections,
)
from apps.marketplace.services.common import eligibility_problem, setting
from apps.notifications.services import notify_users

logger = logging.getLogger(__name__)

BEAT_RUN_METHODS = (SelectionMethod.RANDOM, SelectionMethod.CREDIT, SelectionMethod.BIDDING)


def dispatch_due_projects() -> dict[str, int]:
    """Beat: enqueue closing and selection for every project whose time has come."""
    now = timezone.now()
    closing = list(
        Project.objects.filter(
            status=ProjectStatus.REGISTERING, registration_closes_at__lte=now
        ).values_list("pk", flat=True)
    )
    for project_id in closing:
        enqueue("marketplace.close_registration", project_id)
    selecting = [
        project.pk
        for project in Project.objects.filter(
            status=ProjectStatus.SELECTING, method__in=BEAT_RUN_METHODS, selection_at__lte=now
        ).only("pk", "method", "selection_at", "bid_rounds", "bid_round_minutes")
        if project.method != SelectionMethod.BIDDING or project.bidding_ends_at <= now
    ]
    for project_id in selecting:
        enqueue("marketplace.run_selection", project_id)
    contracts = projects_due_for_contract(now)
    for project_id in contracts:
        enqueue("marketplace.end_award_publicity", project_id)
    return {
        "closing": len(closing),
        "selecting": len(selecting),
        "contracts": len(contracts),
        "overdue_objections": remind_overdue_objections(now),
    }


def _fail(project: Project, reason: str) -> None:
    project.status = ProjectStatus.FAILED
    project.failure_reason = reason
    project.save(update_fields=["status", "failure_reason", "updated_at"])
    notify_users(
        recipients=[project.owner_user_id],
        key=f"marketplace.project_failed:{project.pk}",
        kind="marketplace.project_failed",
        title=_("项目未能选出中介机构：%(name)s") % {"name": project.name},
        body=reason,
        url=f"/marketplace/projects/{project.pk}/",
    )
    record_audit_event(
        actor=None, action="marketplace.project_failed", obj=project, data={"reason": reason}
    )


def _award(
    project: Project, agency: Agency, *, price: Decimal | None, note: str, actor: Any
) -> None:
    """中选公告 with its 公示 period; the contract opens when the period ends (award.py)."""
    project.status = ProjectStatus.AWARDED
    project.winner = agency
    project.award_price = price
    project.award_note = note
    project.awarded_at = timezone.now()
    project.award_publicity_ends_at = publicity_end(project.awarded_at)
    project.save(
        update_fields=[
            "status",
            "winner",
            "award_price",
            "award_note",
            "awarded_at",
            "award_publicity_ends_at",
            "updated_at",
        ]
    )
    registrants = project.registrations.values_list("acting_user_id", flat=True)
    notify_users(
        recipients=[project.owner_user_id, agency.submitted_by_id, *registrants],
        key=f"marketplace.awarded:{project.pk}",
        kind="marketplace.awarded",
        title=_("中选公告：%(name)s") % {"name": project.name},
        body=_("中选机构：%(agency)s。公示期至 %(date)s，期间可对中选结果提出异议。")
        % {
            "agency": agency.enterprise.name,
            "date": timezone.localtime(project.award_publicity_ends_at).strftime("%Y-%m-%d %H:%M"),
        },
        url=f"/marketplace/projects/{project.pk}/",
    )
    record_audit_event(
        actor=actor,
        action="marketplace.awarded",
        obj=project,
        data={
            "uscc": agency.uscc,
            "price": str(price) if price is not None else None,
            "method": project.method,
            "note": note,
            "publicity_ends_at": project.award_publicity_ends_at.isoformat(),
        },
    )


def _valid_registrations(project: Project) -> list[Registration]:
    """Registrations whose agency is still eligible at the close (a qualification may have
    expired or the agency been suspended since it registered)."""
    day = timezone.localdate()
    registrations = project.registrations.select_related("agency__enterprise").order_by(
        "agency__enterprise__uscc"
    )
    return [r for r in registrations if not eligibility_problem(r.agency, project.service, day)]


def _freeze_draw(project: Project, agencies: list[Agency], picks: int) -> Draw:
    draw = Draw.objects.select_for_update().get(project=project)
    entries = sorted(
        ({"uscc": a.uscc, "name": a.enterprise.name} for a in agencies), key=lambda e: e["uscc"]
    )
    usccs = drawing.canonical_list([e["uscc"] for e in entries])
    head = AuditChainHead.objects.filter(pk=1).first()
    draw.registrants = entries
    draw.list_hash = drawing.list_hash(usccs)
    # DOMAIN.md §6.4: a value neither the owner nor an agency controls in advance. The audit
    # chain's head at the close depends on every event recorded platform-wide until then.
    draw.public_value = head.hash if head else ""
    draw.public_value_source = _("报名截止时审计链第 %(seq)s 条事件的摘要") % {
        "seq": head.seq if head else 0
    }
    draw.picks = picks
    draw.status = DrawStatus.FROZEN
    draw.frozen_at = timezone.now()
    draw.save()
    record_audit_event(
        actor=None,
        action="marketplace.draw_frozen",
        obj=draw,
        data={
            "list_hash": draw.list_hash,
            "count": len(entries),
            "public_value": draw.public_value,
            "commitment": draw.seed_commitment,
        },
    )
    return draw


def close_registration(*, project_id: int) -> bool:
    """Close registration at the announced time. Fewer than two valid registrants fails the
    project; a draw method freezes and publishes the ordered list. Idempotent."""
    with transaction.atomic():
        project = (
            Project.objects.select_for_update()
            .select_related("service")
            .filter(pk=project_id)
            .first()
        )
        now = timezone.now()
        if (
            project is None
            or project.status != ProjectStatus.REGISTERING
            or project.registration_closes_at > now
        ):
            return False
        valid = _valid_registrations(project)
        if len(valid) < 2:
            _fail(
                project,
                _("报名截止时有效报名机构不足两家（%(count)s家），项目失败")
                % {"count": len(valid)},
            )
            return True
        project.status = ProjectStatus.SELECTING
        project.save(update_fields=["status", "updated_at"])
        agencies = [r.agency for r in valid]
        if project.method == SelectionMethod.RANDOM:
            _freeze_draw(project, agencies, picks=1)
        elif project.method == SelectionMethod.CREDIT:
            # 大名单: credit score high to low, ties by USCC (deterministic from public data).
            ranked = sorted(agencies, key=lambda a: (-a.credit_score, a.uscc))
            big_list = ranked[: project.big_list_size]
            _freeze_draw(project, big_list, picks=min(project.small_list_size, len(big_list)))
        record_audit_event(
            actor=None,
            action="marketplace.registration_closed",
            obj=project,
            data={"valid": [a.uscc for a in agencies]},
        )
        return True


def _external_value_ready(draw: Draw, project: Project, now) -> bool:
    """Mix in the external public value (beacon.py) once it is published; wait for it up to
    MARKETPLACE_BEACON_WAIT_MINUTES after the selection time, then go on without it, saying
    why. Returns False while waiting (beat retries every minute)."""
    source = beacon.configured()
    if source is None or draw.external_value or draw.external_source:
        return True
    found = source(draw.frozen_at or project.registration_closes_at)
    if found is not None:
        draw.external_value, draw.external_source = found[0][:256], found[1][:300]
        return True
    waited = now - project.selection_at
    if waited < timedelta(minutes=setting("MARKETPLACE_BEACON_WAIT_MINUTES", 30)):
        return False
    draw.external_source = _("外部公共随机值在等待期内未能取得，仅使用报名截止时的公共随机值")
    return True


def _run_draw(draw: Draw) -> list[str]:
    result = drawing.run_draw(
        server_seed=draw.server_seed,
        usccs=[e["uscc"] for e in draw.registrants],
        owner_nonce=draw.owner_nonce,
        public_value=drawing.combined_public_value(draw.public_value, draw.external_value),
        picks=draw.picks,
        version=draw.algorithm_version,
    )
    draw.result = result
    draw.status = DrawStatus.DRAWN
    draw.drawn_at = timezone.now()
    draw.save()
    record_audit_event(
        actor=None,
        action="marketplace.draw_run",
        obj=draw,
        data={
            "server_seed": draw.server_seed,
            "owner_nonce": draw.owner_nonce,
            "public_value": draw.public_value,
            "external_value": draw.external_value,
            "external_source": draw.external_source,
            "list_hash": draw.list_hash,
            "result": result,
        },
    )
    return result


def _latest_bids(project: Project) -> list[Bid]:
    latest: dict[int, Bid] = {}
    for bid in project.bids.select_related("agency__enterprise").order_by("round_number"):
        latest[bid.agency_id] = bid
    return list(latest.values())


def run_selection(*, project_id: int) -> bool:
    """Run the selection at the announced time (随机抽取, 信用择优's 小名单, 竞价's result).
    Idempotent: does nothing unless the project is still selecting and its time has come."""
    with transaction.atomic():
        project = Project.objects.select_for_update().filter(pk=project_id).first()
        now = timezone.now()
        if (
            project is None
            or project.status != ProjectStatus.SELECTING
            or project.method not in BEAT_RUN_METHODS
            or project.selection_at > now
        ):
            return False
        if project.method == SelectionMethod.BIDDING:
            if project.bidding_ends_at > now:
                return False
            bids = sorted(
                _latest_bids(project), key=lambda b: (b.price, b.placed_at, b.agency.uscc)
            )
            if len(bids) < 2:
                _fail(project, _("竞价结束时有效报价不足两家，项目失败"))
                return True
            best = bids[0]
            _award(
                project,
                best.agency,
                price=best.price,
                note=_("第%(round)s轮最低有效报价") % {"round": best.round_number},
                actor=None,
            )
            return True
        draw = Draw.objects.select_for_update().get(project=project)
        if draw.status != DrawStatus.FROZEN or not _external_value_ready(draw, project, now):
            return False
        result = _run_draw(draw)
        if project.method == SelectionMethod.RANDOM:
            winner = Agency.objects.select_related("enterprise").get(enterprise__uscc=result[0])
            _award(project, winner, price=None, note=_("随机抽取"), actor=None)
        else:
            project.shortlist = result
            project.status = ProjectStatus.AWAITING_PICK
            project.save(update_fields=["shortlist", "status", "updated_at"])
            record_audit_event(
                actor=None,
                action="marketplace.shortlist_drawn",
                obj=project,
                data={"shortlist": result},
            )
        return True


def _owner_project(user: Any, project_id: int) -> Project:
    project = (
        Project.objects.select_for_update(of=("self",))
        .select_related("service", "owner_enterprise")
        .get(pk=project_id)
    )
    if not can_manage_project(user, project):
        raise DomainError(_("只有项目业主可以办理"), code="forbidden")
    return project


@transaction.atomic
def pick_from_shortlist(*, user: Any, project_id: int, agency_id: int) -> Project:
    """信用择优: the owner picks one agency from the drawn 小名单."""
    project = _owner_project(user, project_id)
    if project.status != ProjectStatus.AWAITING_PICK:
        raise DomainError(_("该项目不在待业主确定状态"), code="invalid_state")
    agency = Agency.objects.select_related("enterprise").get(pk=agency_id)
    if agency.uscc not in project.shortlist:
        raise DomainError(_("只能从小名单中确定中选机构"), code="not_in_shortlist")
    _award(project, agency, price=None, note=_("信用择优，业主从小名单中确定"), actor=user)
    return project


@transaction.atomic
def select_directly(
    *, user: Any, project_id: int, agency_id: int, price: Decimal | None = None
) -> Project:
    """直接选取: the owner names an eligible agency; the reason was recorded at posting."""
    project = _owner_project(user, project_id)
    if project.method != SelectionMethod.DIRECT or project.status != ProjectStatus.SELECTING:
        raise DomainError(_("该项目不能直接选取"), code="invalid_state")
    agency = Agency.objects.select_related("enterprise").get(pk=agency_id)
    problem = eligibility_problem(agency, project.service, timezone.localdate())
    if problem:
        raise DomainError(problem, code="not_eligible")
    if price is not None and not (0 < price <= project.budget):
        raise DomainError(_("价格须大于零且不超过预算"), code="invalid_price")
    _award(
        project,
        agency,
        price=price,
        note=_("直接选取：%(reason)s") % {"reason": project.direct_reason},
        actor=user,
    )
    return project


@transaction.atomic
def place_bid(*, user: Any, project_id: int, agency_id: int, price: Decimal) -> Bid:
    """竞价: one bid per agency per round, accepted only while the round is open by the
    server's clock; a later round's bid may not exceed the agency's previous bid. Sealed
    rounds hide the bids until the round closes. Open rounds show the current lowest price, and
    a bid must go below it: the project row is locked so two concurrent bids are compared one
    after the other (the clock is read after the lock, so a bid that waited past the close is
    refused)."""
    agency = Agency.objects.select_related("enterprise").get(pk=agency_id)
    if not can_act_for_enterprise(user, agency.enterprise):
        raise DomainError(_("您无权代表该机构出价"), code="forbidden")
    project = Project.objects.get(pk=project_id)
    if project.bid_mode == BidMode.OPEN:
        project = Project.objects.select_for_update().get(pk=project_id)
    now = timezone.now()
    if project.method != SelectionMethod.BIDDING or project.status != ProjectStatus.SELECTING:
        raise DomainError(_("该项目不在竞价阶段"), code="invalid_state")
    if not project.registrations.filter(agency=agency).exists():
        raise DomainError(_("未报名的机构不能出价"), code="not_registered")
    round_number = 0
    for number in range(1, project.bid_rounds + 1):
        opens, closes = project.bid_round_window(number)
        if opens <= now < closes:
            round_number = number
    if round_number == 0:
        if now >= project.bidding_ends_at:
            raise DomainError(_("竞价已截止，出价无效"), code="bidding_closed")
        raise DomainError(_("当前不在竞价时间内"), code="bidding_not_open")
    if not (0 < price <= project.budget):
        raise DomainError(_("报价须大于零且不超过最高限价"), code="invalid_price")
    if project.bid_mode == BidMode.OPEN:
        lowest = project.bids.aggregate(lowest=Min("price"))["lowest"]
        if lowest is not None and price >= lowest:
            raise DomainError(
                _("公开竞价的报价须低于当前最低报价 %(price)s 元") % {"price": lowest},
                code="not_lower",
            )
    previous = Bid.objects.filter(project=project, agency=agency).order_by("-round_number").first()
    if previous is not None and previous.round_number < round_number and price > previous.price:
        raise DomainError(_("后一轮报价不得高于本机构上一轮报价"), code="invalid_price")
    try:
        with transaction.atomic():
            bid = Bid.objects.create(
                project=project,
                agency=agency,
                round_number=round_number,
                price=price,
                placed_at=now,
                acting_user=user,
            )
    except IntegrityError as exc:
        raise DomainError(_("本轮已出价，每轮只能出价一次"), code="already_bid") from exc
    # A sealed price stays out of the audit data until the round closes; an open one is public.
    data = {"project": project.number, "round": round_number}
    if project.bid_mode == BidMode.OPEN:
        data["price"] = str(price)
    record_audit_event(actor=user, action="marketplace.bid_placed", obj=bid, data=data)
    return bid


@transaction.atomic
def score_registration(
    *, user: Any, project_id: int, registration_id: int, scores: Mapping[str, int]
) -> Registration:
    """方案择优: the owner scores a proposal 0–100 on each rubric criterion after the close."""
    project = _owner_project(user, project_id)
    if project.method != SelectionMethod.PROPOSAL or project.status != ProjectStatus.SELECTING:
        raise DomainError(_("该项目不在评审阶段"), code="invalid_state")
    registration = Registration.objects.select_for_update().get(pk=registration_id, project=project)
    if set(scores) != set(project.rubric):
        raise DomainError(_("请对每一项评分细则打分"), code="invalid")
    cleaned = {}
    for criterion, value in scores.items():
        score = int(value)
        if not 0 <= score <= 100:
            raise DomainError(_("每项得分须在0至100之间"), code="invalid")
        cleaned[criterion] = score
    total = sum(Decimal(project.rubric[c]) * cleaned[c] for c in cleaned) / 100
    registration.scores = cleaned
    registration.total_score = total.quantize(Decimal("0.01"))
    registration.save(update_fields=["scores", "total_score", "updated_at"])
    record_audit_event(
        actor=user,
        action="marketplace.proposal_scored",
        obj=registration,
        data={"scores": cleaned, "total": str(registration.total_score)},
    )
    return registration


@transaction.atomic
def select_by_rubric(*, user: Any, project_id: int) -> Project:
    """方案择优: highest weighted score wins; ties go to the lower price, then the USCC."""
    project = _owner_project(user, project_id)
    if project.method != SelectionMethod.PROPOSAL or project.status != ProjectStatus.SELECTING:
        raise DomainError(_("该项目不在评审阶段"), code="invalid_state")
    registrations = list(project.registrations.select_related("agency__enterprise"))
    if any(r.total_score is None for r in registrations):
        raise DomainError(_("尚有方案未评分"), code="unscored")
    best = min(registrations, key=lambda r: (-r.total_score, r.quoted_price, r.agency.uscc))
    _award(
        project,
        best.agency,
        price=best.quoted_price,
        note=_("方案择优，综合得分%(score)s") % {"score": best.total_score},
        actor=user,
    )
    return project
