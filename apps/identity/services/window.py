"""Identifying a walk-in at the window by ID card (一窗受理), with or without an account."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.identity.constants import (
    EnterpriseStatus,
)
from apps.identity.models import (
    AgentAuthorisation,
    Enterprise,
    LegalPersonRecord,
    User,
    WalkInPerson,
)
from apps.identity.permissions import (
    can_identify_applicants,
)
from apps.identity.pii import id_number_index
from apps.identity.selectors import (
    active_authorisation,
    enterprise_capacity,
    find_verified_person,
)
from apps.identity.services._common import _clean_id, _clean_phone, _clean_uscc
from apps.identity.services.accounts import match_population_registry

logger = logging.getLogger(__name__)

# --- identifying a walk-in at the window by ID card (一窗受理, issue 16) -----------------------


@dataclass(frozen=True)
class WindowApplicant:
    """Who stands at the window after the clerk checked their resident ID card.

    Exactly one of ``user`` (a real-name verified account with this ID number and name) and
    ``walk_in_person`` (no such account: the clerk's record) is set. ``enterprise`` is the
    enterprise they act for, if any; ``capacity`` is ``"self"``, ``"legal_rep"``,
    ``"licence_admin"``, ``"agent"`` (an online authorisation, ``authorisation``) or
    ``"paper_agent"`` (the clerk checked a sealed paper authorisation letter).
    """

    user: User | None = None
    walk_in_person: WalkInPerson | None = None
    enterprise: Enterprise | None = None
    capacity: str = "self"
    authorisation: AgentAuthorisation | None = None

    @property
    def masked_name(self) -> str:
        if self.user is not None:
            return self.user.masked_name
        assert self.walk_in_person is not None
        return self.walk_in_person.masked_name

    @property
    def has_account(self) -> bool:
        return self.user is not None


def registry_names_legal_rep(enterprise: Enterprise, *, id_index: str, name: str) -> bool:
    """Whether the 法人库 record of ``enterprise`` names the person with this ID number index
    and name as its legal representative."""
    record = LegalPersonRecord.objects.filter(uscc=enterprise.uscc).first()
    return (
        record is not None
        and hmac.compare_digest(record.legal_rep_id_index, id_index)
        and record.legal_rep_name == name
    )


def _enterprise_from_registry(uscc: str) -> Enterprise:
    """The enterprise with credit code ``uscc`` as the 法人库 has it (存续 only); created from
    the registry when no one has bound it yet (no legal representative account)."""
    record = LegalPersonRecord.objects.filter(uscc=uscc).first()
    if record is None:
        raise DomainError(_("法人库中没有该统一社会信用代码"), code="not_in_registry")
    if record.status != EnterpriseStatus.ACTIVE:
        raise DomainError(
            _("该法人在法人库中的状态为“%(status)s”，不能办理")
            % {"status": record.get_status_display()},
            code="enterprise_inactive",
        )
    enterprise = Enterprise.objects.select_for_update().filter(uscc=uscc).first()
    if enterprise is None:
        enterprise = Enterprise(
            uscc=uscc,
            name=record.name,
            legal_rep_name=record.legal_rep_name,
            status=record.status,
            address=record.address,
            registry_record=record,
        )
        enterprise.full_clean()
        enterprise.save()
    elif not enterprise.is_active:
        raise DomainError(_("该企业不是存续状态"), code="enterprise_inactive")
    return enterprise


@transaction.atomic(durable=True)
def identify_at_window(
    *,
    clerk: User,
    name: str,
    id_number: str,
    phone: str = "",
    uscc: str = "",
    paper_authorisation: bool = False,
) -> WindowApplicant:
    """一窗受理 by ID card: the clerk has the person's resident ID card in hand.

    Name and number must match the population registry (living, current record), else
    ``registry_mismatch``. A real-name verified account with this number and name is used as
    is. Anyone else is served without an account: their ``WalkInPerson`` record (one per ID
    number) is created or refreshed with the contact ``phone`` the clerk records for SMS
    notices (required then, ``phone_required``). With ``uscc`` they act for that enterprise
    (法人库, 存续): as its legal representative if the registry names them, under their
    account's role or online authorisation, or else only on a sealed paper authorisation
    letter the clerk has checked (``paper_authorisation``; ``authorisation_required``).
    Audited; a refusal writes nothing.
    """
    if not can_identify_applicants(clerk):
        raise DomainError(_("只有窗口受理人员可以核验申请人身份"), code="not_clerk")
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("请填写身份证上的姓名"), code="name_required")
    id_number = _clean_id(id_number)
    # A verified account was matched against the registry when it reached L2.
    user = find_verified_person(id_number=id_number, name=name)
    record = None
    if user is None:
        record = match_population_registry(name=name, id_number=id_number)
        if record is None:
            logger.info("identity.window_registry_mismatch", extra={"clerk_id": clerk.pk})
            raise DomainError(
                _("身份证号码与姓名不一致，或人口库中无此记录，请核对身份证件"),
                code="registry_mismatch",
            )
    walk_in: WalkInPerson | None = None
    if user is None:
        assert record is not None
        if not (phone or "").strip():
            raise DomainError(
                _("该申请人没有网上账号，请登记联系电话，用于短信告知办理进度"),
                code="phone_required",
            )
        phone = _clean_phone(phone)
        index = id_number_index(id_number)
        walk_in = WalkInPerson.objects.select_for_update().filter(id_number_index=index).first()
        created = walk_in is None
        if walk_in is None:
            walk_in = WalkInPerson(identified_by=clerk)
            walk_in.set_id_number(id_number)
        walk_in.name = record.name
        walk_in.population_record = record
        walk_in.identified_by = clerk
        walk_in.identified_at = timezone.now()
        walk_in.set_phone(phone)
        walk_in.save()
        record_audit_event(
            actor=clerk,
            action="identity.walk_in_identified",
            obj=walk_in,
            data={"created": created, "claimed": walk_in.claimed_by_id is not None},
        )
    else:
        record_audit_event(
            actor=clerk, action="identity.identified_at_window", obj=user, data={"method": "id"}
        )
    if not (uscc or "").strip():
        return WindowApplicant(user=user, walk_in_person=walk_in)
    enterprise = _enterprise_from_registry(_clean_uscc(uscc))
    capacity, authorisation = _window_capacity(
        enterprise,
        user=user,
        is_registered_rep=registry_names_legal_rep(
            enterprise, id_index=id_number_index(id_number), name=name
        ),
        paper_authorisation=paper_authorisation,
    )
    record_audit_event(
        actor=clerk,
        action="identity.enterprise_identified_at_window",
        obj=enterprise,
        data={
            "capacity": capacity,
            "user_id": getattr(user, "pk", None),
            "walk_in_person_id": getattr(walk_in, "pk", None),
            "authorisation_id": getattr(authorisation, "pk", None),
        },
    )
    return WindowApplicant(
        user=user,
        walk_in_person=walk_in,
        enterprise=enterprise,
        capacity=capacity,
        authorisation=authorisation,
    )


def _window_capacity(
    enterprise: Enterprise,
    *,
    user: User | None,
    is_registered_rep: bool,
    paper_authorisation: bool,
) -> tuple[str, AgentAuthorisation | None]:
    if user is not None:
        capacity = enterprise_capacity(user, enterprise)
        if capacity is not None:
            return capacity, None
        authorisation = active_authorisation(user, enterprise)
        if authorisation is not None:
            return "agent", authorisation
    if is_registered_rep:
        # The 法人库 names the person whose ID card the clerk holds: no letter needed.
        return "legal_rep", None
    if paper_authorisation:
        return "paper_agent", None
    raise DomainError(
        _("申请人不是该单位的法定代表人，也没有网上授权：请核验加盖单位公章的授权委托书"),
        code="authorisation_required",
    )
