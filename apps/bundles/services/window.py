"""一窗受理 at a comprehensive window: the clerk accepts the bundle once and each child case is
accepted for its own department."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.bundles.constants import (
    ApplicationStatus,
)
from apps.bundles.models import (
    BundleApplication,
)
from apps.cases.constants import CaseStatus
from apps.cases.services import (
    CLERK_ROLES,
    CaseActionForbidden,
    CaseActor,
    IllegalTransition,
    accept_case,
)
from apps.core.exceptions import DomainError

logger = logging.getLogger(__name__)


_ACCEPTABLE = {CaseStatus.SUBMITTED, CaseStatus.PRECHECKED, CaseStatus.SUPPLEMENTED}


def _accept_child(case_id: int, clerk: Any) -> bool:
    """Accept one child case for its department in ``clerk``'s name; False when the clerk
    may not (no role in that department) or the case is not awaiting acceptance."""
    try:
        accept_case(case_id=case_id, actor=CaseActor.of(clerk))
    except (CaseActionForbidden, IllegalTransition, DomainError) as exc:
        logger.info(
            "bundles.child_not_accepted",
            extra={"case_id": case_id, "code": getattr(exc, "code", "")},
        )
        return False
    return True


def accept_bundle_application(*, application_id: int, clerk: Any) -> dict[str, int]:
    """一窗受理: the comprehensive-window clerk accepts the bundle once. Every child case now
    awaiting acceptance is accepted for its own department (its own 办件编号 and legal
    acceptance through the cases state machine); children started later are accepted as they
    are submitted. Returns ``{"accepted": n, "left": m}`` (m: children the clerk holds no
    window role for, left to their department). Refused when the clerk serves none of the
    bundle's departments or the application is not in progress."""
    with transaction.atomic(durable=True):
        application = BundleApplication.objects.select_for_update().get(pk=application_id)
        if application.status != ApplicationStatus.IN_PROGRESS:
            raise DomainError(_("该一件事不在办理中，不能受理"), code="illegal_transition")
        departments = set(
            application.children.values_list("component__item_version__department_id", flat=True)
        )
        served = set(
            clerk.memberships.filter(
                department_id__in=departments, is_active=True, role__in=CLERK_ROLES
            ).values_list("department_id", flat=True)
        )
        if not served:
            raise DomainError(_("您不是该一件事任何部门的窗口人员"), code="forbidden")
        if application.accepted_at is None:
            application.accepted_at = timezone.now()
            application.accepted_by = clerk
            application.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
            record_audit_event(actor=clerk, action="bundles.accepted", obj=application)
    accepted = left = 0
    for child in application.children.filter(case__status__in=list(_ACCEPTABLE)):
        if _accept_child(child.case_id, clerk):
            accepted += 1
        else:
            left += 1
    return {"accepted": accepted, "left": left}
