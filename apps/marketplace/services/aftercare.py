"""After the award: contract, completion, evaluation, credit and sanctions (DOMAIN.md §6.2 7-8).

Credit (○, a city measure): base 100 = 行业主管部门评价 70 + 政府企业信用 10 + 社会评价 20, with the
weights configurable in ``MARKETPLACE_CREDIT_WEIGHTS``; each sanction deducts its points. Every
change is kept as a ``CreditChange`` with its components.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Avg
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.marketplace.constants import (
    AgencyStatus,
    ContractStatus,
    EvaluatorKind,
    SanctionKind,
)
from apps.marketplace.models import Agency, Contract, CreditChange, Evaluation, Project, Sanction
from apps.marketplace.permissions import (
    can_act_for_enterprise,
    can_manage_project,
    can_supervise_service,
)
from apps.marketplace.services.common import setting
from apps.marketplace.services.sanctions import may_decide_sanctions

DEFAULT_WEIGHTS = {"supervisor": 70, "credit": 10, "social": 20}
SANCTION_POINTS = {
    SanctionKind.WARNING: 5,
    SanctionKind.SUSPENSION: 15,
    SanctionKind.EXPULSION: 30,
    SanctionKind.BLACKLIST: 40,
}


def open_contract(project: Project) -> Contract:
    """Called in the award's transaction: the contract must be signed within the set period."""
    days = setting("MARKETPLACE_CONTRACT_SIGN_DAYS", 10)
    return Contract.objects.create(
        project=project,
        agency=project.winner,
        amount=project.award_price,
        sign_by=timezone.now() + timedelta(days=days),
    )


def contract_side(user: Any, contract: Contract) -> str:
    if can_manage_project(user, contract.project):
        return "owner"
    if can_act_for_enterprise(user, contract.agency.enterprise):
        return "agency"
    raise DomainError(_("您不是该合同的当事方"), code="forbidden")


def lock_contract(contract_id: int) -> Contract:
    return (
        Contract.objects.select_for_update(of=("self",))
        .select_related("project__owner_enterprise", "project__service", "agency__enterprise")
        .get(pk=contract_id)
    )


@transaction.atomic(durable=True)
def confirm_contract(*, user: Any, contract_id: int) -> Contract:
    """Each side confirms the contract online; it is signed when both have."""
    contract = lock_contract(contract_id)
    side = contract_side(user, contract)
    if contract.status != ContractStatus.AWAITING_SIGNATURE:
        raise DomainError(_("合同不在待签订状态"), code="invalid_state")
    if timezone.now() > contract.sign_by:
        raise DomainError(_("已超过合同签订期限"), code="too_late")
    setattr(contract, f"{side}_signed_at", timezone.now())
    if contract.owner_signed_at and contract.agency_signed_at:
        contract.status = ContractStatus.SIGNED
    contract.save()
    record_audit_event(
        actor=user, action="marketplace.contract_confirmed", obj=contract, data={"side": side}
    )
    return contract


@transaction.atomic(durable=True)
def refuse_contract(*, user: Any, contract_id: int, reason: str) -> Contract:
    """The winner refuses to sign: recorded as misconduct (a warning and its credit points);
    the 行业主管部门 may impose more through ``impose_sanction``."""
    contract = lock_contract(contract_id)
    if contract_side(user, contract) != "agency":
        raise DomainError(_("只有中选机构可以拒签"), code="forbidden")
    if contract.status != ContractStatus.AWAITING_SIGNATURE:
        raise DomainError(_("合同不在待签订状态"), code="invalid_state")
    contract.status = ContractStatus.REFUSED
    contract.refusal_reason = reason.strip()[:300]
    contract.save(update_fields=["status", "refusal_reason", "updated_at"])
    Sanction.objects.create(
        agency=contract.agency,
        kind=SanctionKind.WARNING,
        reason=_("中选后拒绝签订合同"),
        starts_on=timezone.localdate(),
        project=contract.project,
    )
    _recompute_credit(contract.agency, reason=_("中选后拒签合同"))
    record_audit_event(
        actor=user,
        action="marketplace.contract_refused",
        obj=contract,
        data={"reason": contract.refusal_reason, "uscc": contract.agency.uscc},
    )
    return contract


@transaction.atomic(durable=True)
def confirm_completion(*, user: Any, contract_id: int) -> Contract:
    """Completion is confirmed by both sides."""
    contract = lock_contract(contract_id)
    side = contract_side(user, contract)
    if contract.status != ContractStatus.SIGNED:
        raise DomainError(_("合同尚未签订或已完成"), code="invalid_state")
    if contract.milestones.filter(confirmed_at__isnull=True).exists():
        raise DomainError(_("尚有履约节点未经业主确认"), code="milestones_open")
    setattr(contract, f"{side}_completed_at", timezone.now())
    if contract.owner_completed_at and contract.agency_completed_at:
        contract.status = ContractStatus.COMPLETED
    contract.save()
    record_audit_event(
        actor=user, action="marketplace.completion_confirmed", obj=contract, data={"side": side}
    )
    return contract


def _average(agency: Agency, kind: str) -> Decimal:
    value = Evaluation.objects.filter(agency=agency, evaluator_kind=kind).aggregate(
        avg=Avg("score")
    )["avg"]
    return Decimal(str(value)) if value is not None else Decimal(100)


def credit_components(agency: Agency) -> dict[str, str]:
    weights = {**DEFAULT_WEIGHTS, **getattr(settings, "MARKETPLACE_CREDIT_WEIGHTS", {})}
    supervisor = _average(agency, EvaluatorKind.SUPERVISOR)
    social = _average(agency, EvaluatorKind.OWNER)
    government = Decimal(100)  # 政府企业信用: a feed from the credit platform (stub, ○)
    penalty = sum((SANCTION_POINTS[SanctionKind(s.kind)] for s in agency.sanctions.all()), start=0)
    base = (
        supervisor * weights["supervisor"]
        + government * weights["credit"]
        + social * weights["social"]
    ) / 100
    score = max(Decimal(0), base - penalty).quantize(Decimal("0.01"))
    return {
        "supervisor": str(supervisor.quantize(Decimal("0.01"))),
        "credit": str(government),
        "social": str(social.quantize(Decimal("0.01"))),
        "penalty": str(penalty),
        "weights": ",".join(f"{k}={v}" for k, v in sorted(weights.items())),
        "score": str(score),
    }


def _recompute_credit(agency: Agency, *, reason: str) -> CreditChange | None:
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    components = credit_components(agency)
    score = Decimal(components["score"])
    if score == agency.credit_score:
        return None
    change = CreditChange.objects.create(
        agency=agency,
        previous=agency.credit_score,
        current=score,
        reason=reason,
        components=components,
    )
    agency.credit_score = score
    agency.save(update_fields=["credit_score", "updated_at"])
    return change


@transaction.atomic(durable=True)
def evaluate_agency(*, user: Any, contract_id: int, score: int, comment: str = "") -> Evaluation:
    """The owner rates the agency after completion; the 行业主管部门 evaluates too."""
    contract = lock_contract(contract_id)
    if contract.status != ContractStatus.COMPLETED:
        raise DomainError(_("服务完成后才能评价"), code="invalid_state")
    if can_manage_project(user, contract.project):
        kind = EvaluatorKind.OWNER
    elif can_supervise_service(user, contract.project.service.department_id):
        kind = EvaluatorKind.SUPERVISOR
    else:
        raise DomainError(_("您无权评价该服务"), code="forbidden")
    if not 0 <= int(score) <= 100:
        raise DomainError(_("评分须在0至100之间"), code="invalid")
    if Evaluation.objects.filter(contract=contract, evaluator_kind=kind).exists():
        raise DomainError(_("已评价，不能重复评价"), code="already_evaluated")
    evaluation = Evaluation.objects.create(
        contract=contract,
        agency=contract.agency,
        evaluator_kind=kind,
        evaluator=user,
        score=int(score),
        comment=comment.strip()[:500],
    )
    _recompute_credit(contract.agency, reason=str(evaluation._meta.verbose_name))
    record_audit_event(
        actor=user,
        action="marketplace.agency_evaluated",
        obj=evaluation,
        data={"kind": kind, "score": int(score)},
    )
    return evaluation


@transaction.atomic(durable=True)
def impose_sanction(
    *,
    user: Any = None,
    agency_id: int,
    kind: str,
    reason: str,
    ends_on: date | None = None,
    api_client: Any = None,
) -> Sanction:
    """警告 / 暂停承接 / 清退 / 黑名单, with reason and period; public. The operator or a
    行业主管部门 of a service the agency offers decides (a person, or the department's system
    through ``api_client``)."""
    agency = Agency.objects.select_for_update().get(pk=agency_id)
    if not may_decide_sanctions(user, agency, api_client):
        raise DomainError(_("您无权对该机构作出惩戒"), code="forbidden")
    if kind not in SanctionKind.values or not reason.strip():
        raise DomainError(_("请选择惩戒类型并说明事由"), code="invalid")
    if kind == SanctionKind.SUSPENSION and ends_on is None:
        raise DomainError(_("暂停承接须设置期限"), code="invalid")
    if ends_on is not None and ends_on < timezone.localdate():
        raise DomainError(_("惩戒期限不得早于今天"), code="invalid")
    sanction = Sanction.objects.create(
        agency=agency,
        kind=kind,
        reason=reason.strip(),
        starts_on=timezone.localdate(),
        ends_on=ends_on,
        decided_by=user,
    )
    if kind == SanctionKind.SUSPENSION and agency.status != AgencyStatus.EXPELLED:
        agency.status = AgencyStatus.SUSPENDED
    elif kind in (SanctionKind.EXPULSION, SanctionKind.BLACKLIST):
        agency.status = AgencyStatus.EXPELLED
    agency.save(update_fields=["status", "updated_at"])
    _recompute_credit(agency, reason=sanction.get_kind_display())
    record_audit_event(
        actor=user,
        action="marketplace.sanction_imposed",
        obj=sanction,
        data={
            "uscc": agency.enterprise.uscc,
            "kind": kind,
            "reason": sanction.reason,
            "api_client": api_client.pk if api_client is not None else None,
        },
    )
    return sanction
