"""Service records (the rated unit): completed cases and window services, pad tokens."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.core.exceptions import DomainError
from apps.core.models import Department, ServiceWindow
from apps.identity.constants import StaffRole
from apps.reviews import rollups
from apps.reviews.config import policy_for, region_path
from apps.reviews.constants import (
    ServiceKind,
)
from apps.reviews.models import (
    ServiceRecord,
)

PAD_SALT = "reviews.pad"
RATEABLE_CASE_STATES = (CaseStatus.COMPLETED, CaseStatus.DELIVERED)


def _period(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m")


def _new_service(**fields: Any) -> ServiceRecord:
    department: Department = fields["department"]
    region = department.region
    completed_at: datetime = fields["completed_at"]
    policy = policy_for(region)
    service = ServiceRecord(
        region=region,
        region_path=",".join(r.code for r in region_path(region)),
        default_due_at=completed_at + timedelta(days=policy.default_after_days),
        period=_period(completed_at),
        **fields,
    )
    service.full_clean()
    service.save()
    rollups.apply_change(
        rollups.service_keys(service),
        service.period,
        Counter(),
        rollups.service_contribution(service),
    )
    return service


def _case_service(case: Case) -> ServiceRecord:
    """The service record of a completed case, created on first need (helper, no commit)."""
    existing = ServiceRecord.objects.filter(case=case).first()
    if existing is not None:
        return existing
    version = case.item_version
    return _new_service(
        kind=ServiceKind.CASE,
        case=case,
        department=case.department,
        item_code=version.implementation_code,
        item_name=version.name,
        hall=case.hall,
        staff=case.accepted_by,
        summary=version.name,
        completed_at=case.completed_at or timezone.now(),
    )


def _node_service(case: Case, node: str) -> ServiceRecord:
    """The service record of an earlier node of a case (helper, no commit): created when the
    node is first rated, so it is rated at once and never gets a system default."""
    existing = ServiceRecord.objects.filter(node_case=case, node=node).first()
    if existing is not None:
        return existing
    version = case.item_version
    return _new_service(
        kind=ServiceKind.CASE,
        node_case=case,
        node=node,
        department=case.department,
        item_code=version.implementation_code,
        item_name=version.name,
        hall=case.hall,
        staff=case.accepted_by,
        summary=version.name,
        completed_at=timezone.now(),
    )


@transaction.atomic(durable=True)
def register_completed_cases(*, limit: int = 500) -> int:
    """Give completed cases without one a service record, so the default rating and the
    主动评价率 denominator see them. Idempotent (a case has at most one record); called by the
    ``reviews.apply_defaults`` beat task before defaults are applied."""
    cases = list(
        Case.objects.filter(
            status__in=RATEABLE_CASE_STATES,
            completed_at__isnull=False,
            review_service__isnull=True,
        )
        .select_related("item_version", "department__region")
        .order_by("completed_at", "pk")[:limit]
    )
    for case in cases:
        _case_service(case)
    return len(cases)


@transaction.atomic(durable=True)
def record_window_service(
    *,
    clerk: Any,
    window_id: int,
    department_id: int,
    summary: str,
    item_code: str = "",
    item_name: str = "",
    served_user: Any | None = None,
) -> ServiceRecord:
    """A clerk records one finished window service (一次一评): the pad link and the printed
    QR are bound to it. The clerk must work at this window for this department."""
    window = ServiceWindow.objects.select_related("hall").filter(pk=window_id).first()
    if window is None or not window.departments.filter(pk=department_id).exists():
        raise DomainError(_("窗口不存在或不属于该部门"), code="invalid_window")
    if (
        StaffRole.CLERK
        not in {
            m.role for m in clerk.memberships.filter(is_active=True, department_id=department_id)
        }
        and not clerk.memberships.filter(
            is_active=True, department_id=department_id, role=StaffRole.DEPT_ADMIN
        ).exists()
    ):
        raise DomainError(_("您不是该部门的窗口工作人员"), code="not_clerk")
    summary = summary.strip()
    if not summary:
        raise DomainError(_("请填写服务内容"), code="summary_required")
    department = Department.objects.select_related("region").get(pk=department_id)
    service = _new_service(
        kind=ServiceKind.WINDOW,
        department=department,
        hall=window.hall,
        window=window,
        staff=clerk,
        served_user=served_user,
        item_code=item_code,
        item_name=item_name,
        summary=summary[:200],
        completed_at=timezone.now(),
        pad_nonce=secrets.token_hex(8),
    )
    record_audit_event(actor=clerk, action="reviews.window_service", obj=service)
    return service


def pad_token(service: ServiceRecord) -> str:
    """The signed single-use token of the pad page and the printed QR (no login needed)."""
    return signing.dumps({"s": service.pk, "n": service.pad_nonce}, salt=PAD_SALT)


def service_for_pad_token(token: str) -> ServiceRecord:
    """The unrated window service a pad token is bound to; refuses used or forged tokens."""
    try:
        data = signing.loads(token, salt=PAD_SALT, max_age=settings.REVIEWS_PAD_TOKEN_MAX_AGE)
    except signing.BadSignature as exc:
        raise DomainError(_("评价链接无效或已过期"), code="bad_token") from exc
    service = (
        ServiceRecord.objects.select_related("department", "hall", "window")
        .filter(pk=data.get("s"), kind=ServiceKind.WINDOW)
        .first()
    )
    if service is None or not service.pad_nonce or service.pad_nonce != data.get("n"):
        raise DomainError(_("该评价链接已使用或已失效"), code="token_used")
    return service
