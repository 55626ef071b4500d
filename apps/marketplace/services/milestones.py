"""The contract as a document and its performance milestones (DOMAIN.md §6.2 7).

A side may upload the signed contract (PDF, at most ``MARKETPLACE_CONTRACT_MAX_MB``, default 10)
while it awaits signature: the upload counts as that side's confirmation and its SHA-256 goes
into the audit chain; the other side then confirms the uploaded text online, which signs it.
The owner sets milestones (until completion); the agency reports each done and the owner
confirms it; completion waits until every milestone is confirmed.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.marketplace.constants import ContractStatus
from apps.marketplace.models import Contract, ContractMilestone
from apps.marketplace.services.aftercare import contract_side, lock_contract
from apps.marketplace.services.common import setting

PDF_MAGIC = b"%PDF-"


@transaction.atomic(durable=True)
def upload_contract(*, user: Any, contract_id: int, document: Any) -> Contract:
    """Upload the signed contract; it counts as the uploading side's confirmation."""
    contract = lock_contract(contract_id)
    side = contract_side(user, contract)
    if contract.status != ContractStatus.AWAITING_SIGNATURE:
        raise DomainError(_("合同不在待签订状态"), code="invalid_state")
    if timezone.now() > contract.sign_by:
        raise DomainError(_("已超过合同签订期限"), code="too_late")
    limit = setting("MARKETPLACE_CONTRACT_MAX_MB", 10) * 1024 * 1024
    if document is None or document.size == 0 or document.size > limit:
        raise DomainError(
            _("请上传不超过%(mb)sMB的合同PDF文件") % {"mb": limit // (1024 * 1024)},
            code="invalid_file",
        )
    head = document.read(len(PDF_MAGIC))
    document.seek(0)
    if head != PDF_MAGIC:
        raise DomainError(_("合同文件须为PDF格式"), code="invalid_file")
    digest = hashlib.sha256()
    for chunk in document.chunks():
        digest.update(chunk)
    document.seek(0)
    contract.document.save(f"{contract.project.number}.pdf", document, save=False)
    contract.document_sha256 = digest.hexdigest()
    contract.document_uploaded_by = side
    # A new text needs the other side's confirmation again.
    contract.owner_signed_at = timezone.now() if side == "owner" else None
    contract.agency_signed_at = timezone.now() if side == "agency" else None
    contract.save()
    record_audit_event(
        actor=user,
        action="marketplace.contract_uploaded",
        obj=contract,
        data={"side": side, "sha256": contract.document_sha256, "size": document.size},
    )
    return contract


@transaction.atomic(durable=True)
def add_milestone(*, user: Any, contract_id: int, title: str, due_on: date) -> ContractMilestone:
    contract = lock_contract(contract_id)
    if contract_side(user, contract) != "owner":
        raise DomainError(_("只有项目业主可以设置履约节点"), code="forbidden")
    if contract.status not in (ContractStatus.AWAITING_SIGNATURE, ContractStatus.SIGNED):
        raise DomainError(_("合同已完成或已拒签，不能再设置履约节点"), code="invalid_state")
    if not title.strip():
        raise DomainError(_("请填写节点内容"), code="invalid")
    milestone = ContractMilestone.objects.create(
        contract=contract, title=title.strip()[:200], due_on=due_on
    )
    record_audit_event(
        actor=user,
        action="marketplace.milestone_added",
        obj=milestone,
        data={"contract": contract.pk, "title": milestone.title, "due_on": due_on.isoformat()},
    )
    return milestone


def _lock_milestone(milestone_id: int) -> tuple[ContractMilestone, Contract]:
    milestone = ContractMilestone.objects.select_for_update().filter(pk=milestone_id).first()
    if milestone is None:
        raise DomainError(_("履约节点不存在"), code="not_found")
    return milestone, lock_contract(milestone.contract_id)


@transaction.atomic(durable=True)
def report_milestone(*, user: Any, milestone_id: int) -> ContractMilestone:
    """The agency reports a milestone done (once the contract is signed)."""
    milestone, contract = _lock_milestone(milestone_id)
    if contract_side(user, contract) != "agency":
        raise DomainError(_("只有中选机构可以报告节点完成"), code="forbidden")
    if contract.status != ContractStatus.SIGNED or milestone.reported_at is not None:
        raise DomainError(_("该节点不能报告完成"), code="invalid_state")
    milestone.reported_at = timezone.now()
    milestone.save(update_fields=["reported_at", "updated_at"])
    record_audit_event(actor=user, action="marketplace.milestone_reported", obj=milestone, data={})
    return milestone


@transaction.atomic(durable=True)
def confirm_milestone(*, user: Any, milestone_id: int) -> ContractMilestone:
    """The owner confirms a reported milestone."""
    milestone, contract = _lock_milestone(milestone_id)
    if contract_side(user, contract) != "owner":
        raise DomainError(_("只有项目业主可以确认节点"), code="forbidden")
    if milestone.reported_at is None or milestone.confirmed_at is not None:
        raise DomainError(_("机构报告完成后才能确认，且只能确认一次"), code="invalid_state")
    milestone.confirmed_at = timezone.now()
    milestone.save(update_fields=["confirmed_at", "updated_at"])
    record_audit_event(actor=user, action="marketplace.milestone_confirmed", obj=milestone, data={})
    return milestone
