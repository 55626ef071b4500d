"""入驻: the service list, agency registration, review, publicity and qualification expiry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.catalog.models import ServiceItem
from apps.core.exceptions import DomainError
from apps.core.i18n import join_list
from apps.core.models import Department
from apps.identity.models import Enterprise
from apps.marketplace.constants import AgencyServiceStatus, AgencyStatus
from apps.marketplace.models import Agency, AgencyService, IntermediaryService, Qualification
from apps.marketplace.permissions import (
    can_act_for_enterprise,
    can_supervise_service,
    is_operator,
)
from apps.marketplace.services.common import clean_requirements, holds_requirements, setting
from apps.notifications.services import notify_users

COMMITMENT_VERSION = "2026-1"


@transaction.atomic(durable=True)
def save_intermediary_service(
    *,
    user: Any,
    department: Department,
    code: str,
    name: str,
    legal_basis: str,
    required_qualifications: Iterable[Mapping[str, Any]],
    catalogue_item_ids: Iterable[int] = (),
) -> IntermediaryService:
    """Create or update a 中介服务事项清单 entry; only the 行业主管部门 that keeps it."""
    if not can_supervise_service(user, department.pk):
        raise DomainError(_("只有行业主管部门可以维护中介服务事项清单"), code="forbidden")
    if not name.strip() or not legal_basis.strip():
        raise DomainError(_("请填写事项名称和设定依据"), code="invalid")
    service = IntermediaryService.objects.select_for_update().filter(code=code).first()
    if service is not None and service.department_id != department.pk:
        raise DomainError(_("该事项由其他行业主管部门维护"), code="forbidden")
    service = service or IntermediaryService(code=code, department=department)
    service.name = name.strip()
    service.legal_basis = legal_basis.strip()
    service.required_qualifications = clean_requirements(required_qualifications)
    service.save()
    service.catalogue_items.set(ServiceItem.objects.filter(pk__in=list(catalogue_item_ids)))
    record_audit_event(
        actor=user,
        action="marketplace.service_saved",
        obj=service,
        data={"code": code, "requirements": service.required_qualifications},
    )
    return service


@transaction.atomic(durable=True)
def register_agency(
    *,
    user: Any,
    enterprise: Enterprise,
    contact_phone: str,
    introduction: str = "",
    commitment_signed: bool,
) -> Agency:
    """入驻申请: the enterprise's legal rep or authorised agent (L3+) registers it as an agency
    and signs the 承诺书. A rejected agency may apply again."""
    if not can_act_for_enterprise(user, enterprise):
        raise DomainError(
            _("只有企业的法定代表人或经授权的经办人（实名等级三级及以上）可以申请入驻"),
            code="forbidden",
        )
    if not commitment_signed:
        raise DomainError(_("请阅读并签署诚信承诺书"), code="commitment_required")
    agency = Agency.objects.select_for_update().filter(enterprise=enterprise).first()
    if agency is not None and agency.status != AgencyStatus.REJECTED:
        raise DomainError(_("该企业已申请入驻"), code="already_registered")
    agency = agency or Agency(enterprise=enterprise, submitted_by=user)
    agency.submitted_by = user
    agency.status = AgencyStatus.PENDING
    agency.contact_phone = contact_phone.strip()
    agency.introduction = introduction.strip()
    agency.commitment_signed_at = timezone.now()
    agency.commitment_version = COMMITMENT_VERSION
    agency.save()
    record_audit_event(
        actor=user,
        action="marketplace.agency_registered",
        obj=agency,
        data={"uscc": enterprise.uscc, "commitment": COMMITMENT_VERSION},
    )
    return agency


@transaction.atomic(durable=True)
def declare_agency_service(
    *,
    user: Any,
    agency_id: int,
    service: IntermediaryService,
    qualifications: Iterable[Mapping[str, Any]],
) -> AgencyService:
    """Declare a service with the certificates that qualify the agency for it.

    Each certificate: code, name, grade, number, issuer, valid_from, valid_until, scope and an
    optional uploaded ``certificate`` file. The certificates must meet the list's legal
    requirements today, or nothing is written.
    """
    agency = Agency.objects.select_for_update().select_related("enterprise").get(pk=agency_id)
    if not can_act_for_enterprise(user, agency.enterprise):
        raise DomainError(_("您无权代表该机构办理"), code="forbidden")
    if agency.status in (AgencyStatus.EXPELLED, AgencyStatus.REJECTED):
        raise DomainError(_("机构当前状态不能登记服务"), code="invalid_state")
    today = timezone.localdate()
    rows: list[Qualification] = []
    for data in qualifications:
        valid_from, valid_until = data.get("valid_from"), data.get("valid_until")
        if not (isinstance(valid_from, date) and isinstance(valid_until, date)):
            raise DomainError(_("请填写资质有效期"), code="invalid")
        if valid_until < valid_from:
            raise DomainError(_("资质有效期截止日期早于起始日期"), code="invalid")
        if not str(data.get("number", "")).strip() or not str(data.get("issuer", "")).strip():
            raise DomainError(_("请填写证书编号和发证机关"), code="invalid")
        rows.append(
            Qualification(
                agency=agency,
                code=str(data["code"]).strip(),
                name=str(data.get("name") or data["code"])[:100],
                grade=int(data.get("grade", 0)),
                number=str(data["number"]).strip(),
                issuer=str(data["issuer"]).strip(),
                valid_from=valid_from,
                valid_until=valid_until,
                scope=str(data.get("scope", ""))[:300],
                certificate=data.get("certificate") or "",
            )
        )
    missing = holds_requirements(rows, service.legal_requirements(), today)
    if missing:
        raise DomainError(
            _("资质不满足该中介服务的法定要求：%(codes)s") % {"codes": join_list(missing)},
            code="qualification_missing",
        )
    for row in rows:
        row.save()
    offer, _created = AgencyService.objects.get_or_create(agency=agency, service=service)
    offer.qualifications.add(*rows)
    offer.status = AgencyServiceStatus.ACTIVE
    offer.status_reason = ""
    offer.save(update_fields=["status", "status_reason", "updated_at"])
    record_audit_event(
        actor=user,
        action="marketplace.service_declared",
        obj=offer,
        data={"service": service.code, "certificates": [r.number for r in rows]},
    )
    return offer


@transaction.atomic(durable=True)
def review_agency(*, operator: Any, agency_id: int, approve: bool, note: str = "") -> Agency:
    """Operator review: approved agencies are published for the 公示 period, then listed."""
    if not is_operator(operator):
        raise DomainError(_("只有运营机构可以审核入驻申请"), code="forbidden")
    agency = Agency.objects.select_for_update().get(pk=agency_id)
    if agency.status != AgencyStatus.PENDING:
        raise DomainError(_("该申请不在待审核状态"), code="invalid_state")
    if not approve and not note.strip():
        raise DomainError(_("不予通过须说明理由"), code="reason_required")
    if approve and not agency.services.exists():
        raise DomainError(_("机构尚未登记任何中介服务"), code="no_services")
    now = timezone.now()
    agency.reviewed_by = operator
    agency.reviewed_at = now
    agency.review_note = note.strip()
    if approve:
        agency.status = AgencyStatus.PUBLICITY
        agency.publicity_ends_at = now + timedelta(days=setting("MARKETPLACE_PUBLICITY_DAYS", 5))
    else:
        agency.status = AgencyStatus.REJECTED
    agency.save()
    record_audit_event(
        actor=operator,
        action="marketplace.agency_reviewed",
        obj=agency,
        data={"approved": approve, "note": agency.review_note},
    )
    return agency


def end_agency_publicity() -> int:
    """Beat: agencies whose 公示 has ended enter the directory. Idempotent."""
    done = 0
    now = timezone.now()
    due = Agency.objects.filter(status=AgencyStatus.PUBLICITY, publicity_ends_at__lte=now)
    for agency_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            agency = (
                Agency.objects.select_for_update(skip_locked=True)
                .filter(pk=agency_id, status=AgencyStatus.PUBLICITY, publicity_ends_at__lte=now)
                .first()
            )
            if agency is None:
                continue
            agency.status = AgencyStatus.LISTED
            agency.listed_at = now
            agency.save(update_fields=["status", "listed_at", "updated_at"])
            record_audit_event(actor=None, action="marketplace.agency_listed", obj=agency)
            done += 1
    return done


def suspend_expired_qualifications() -> dict[str, int]:
    """Beat (daily): suspend every active service that now lacks a valid qualification the
    law requires; notify agencies once ahead of a certificate's expiry. Idempotent."""
    today = timezone.localdate()
    suspended = 0
    offers = AgencyService.objects.filter(status=AgencyServiceStatus.ACTIVE).values_list(
        "pk", flat=True
    )
    for offer_id in list(offers):
        with transaction.atomic():
            offer = (
                AgencyService.objects.select_for_update(skip_locked=True)
                .select_related("service")
                .filter(pk=offer_id, status=AgencyServiceStatus.ACTIVE)
                .first()
            )
            if offer is None:
                continue
            missing = holds_requirements(
                offer.qualifications.all(), offer.service.legal_requirements(), today
            )
            if not missing:
                continue
            offer.status = AgencyServiceStatus.SUSPENDED
            offer.status_reason = _("资质已过期：%(codes)s") % {"codes": join_list(missing)}
            offer.save(update_fields=["status", "status_reason", "updated_at"])
            record_audit_event(
                actor=None,
                action="marketplace.service_suspended",
                obj=offer,
                data={"missing": missing},
            )
            suspended += 1
    notice_until = today + timedelta(days=setting("MARKETPLACE_EXPIRY_NOTICE_DAYS", 30))
    noticed = 0
    expiring = Qualification.objects.filter(
        valid_until__gte=today, valid_until__lte=notice_until, expiry_notice_sent_on__isnull=True
    ).select_related("agency__enterprise")
    for qualification in expiring:
        with transaction.atomic():
            notify_users(
                recipients=[qualification.agency.submitted_by_id],
                key=f"marketplace.qualification_expiry:{qualification.pk}",
                kind="marketplace.qualification_expiry",
                title=_("资质证书即将到期"),
                body=_("%(name)s（%(number)s）将于 %(day)s 到期，到期后相关中介服务将暂停承接。")
                % {
                    "name": qualification.name,
                    "number": qualification.number,
                    "day": qualification.valid_until.isoformat(),
                },
            )
            Qualification.objects.filter(pk=qualification.pk).update(expiry_notice_sent_on=today)
            record_audit_event(
                actor=None, action="marketplace.qualification_expiry_noticed", obj=qualification
            )
            noticed += 1
    return {"suspended": suspended, "noticed": noticed}
