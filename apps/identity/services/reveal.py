"""Revealing a full ID number to staff: only with a basis and a reason, always audited."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.identity.models import (
    Person,
    User,
)
from apps.identity.permissions import (
    can_administer_department,
    reveal_basis,
)

logger = logging.getLogger(__name__)

# --- revealing a full ID number (audited) -------------------------------------------------------

MIN_REVEAL_REASON = 2


@transaction.atomic(durable=True)
def reveal_person_id_number(*, staff: User, subject: User, reason: str) -> str:
    """The full ID number of ``subject`` for a permitted staff action, audited (who, whose,
    why, on what basis). Refused without a basis (``permissions.reveal_basis``) or a reason."""
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REVEAL_REASON:
        raise DomainError(_("请填写查看完整身份证号码的事由"), code="reason_required")
    basis = reveal_basis(staff, subject)
    if basis is None:
        raise DomainError(_("您无权查看该申请人的完整身份证号码"), code="reveal_not_allowed")
    person = Person.objects.filter(user=subject).first()
    if person is None or not person.id_number:
        raise DomainError(_("该申请人尚未登记身份证号码"), code="no_id_number")
    record_audit_event(
        actor=staff,
        action="identity.id_number_revealed",
        obj=person,
        data={"subject_id": subject.pk, "reason": reason[:200], "basis": basis},
    )
    logger.info("identity.id_number_revealed", extra={"staff_id": staff.pk, "basis": basis})
    return person.id_number


@transaction.atomic(durable=True)
def grant_reveal_permission(
    *, granted_by: User, staff: User, subject: User, department: int, reason: str
) -> None:
    """A department administrator lets one staff member of their department see one person's
    full ID number (django-guardian per-object grant), e.g. for a supervision case."""
    from guardian.shortcuts import assign_perm

    if not can_administer_department(granted_by, department):
        raise DomainError(_("只有部门管理员可以授予查看权限"), code="not_dept_admin")
    if not staff.memberships.filter(department_id=department, is_active=True).exists():
        raise DomainError(_("只能授予本部门工作人员"), code="not_in_department")
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REVEAL_REASON:
        raise DomainError(_("请填写授权事由"), code="reason_required")
    person = Person.objects.filter(user=subject).first()
    if person is None or not person.id_number:
        raise DomainError(_("该人员尚未登记身份证号码"), code="no_id_number")
    assign_perm("identity.reveal_id_number", staff, person)
    record_audit_event(
        actor=granted_by,
        action="identity.reveal_permission_granted",
        obj=person,
        data={"staff_id": staff.pk, "department_id": department, "reason": reason[:200]},
    )


@transaction.atomic(durable=True)
def revoke_reveal_permission(
    *, revoked_by: User, staff: User, subject: User, department: int, reason: str = ""
) -> bool:
    """Withdraw a per-object reveal grant (django-guardian ``remove_perm``), audited. Only a
    department administrator of a department the staff member belongs to. Returns whether a
    grant existed."""
    from guardian.models import UserObjectPermission
    from guardian.shortcuts import remove_perm

    if not can_administer_department(revoked_by, department):
        raise DomainError(_("只有部门管理员可以撤销查看权限"), code="not_dept_admin")
    if not staff.memberships.filter(department_id=department).exists():
        raise DomainError(_("只能撤销本部门工作人员的权限"), code="not_in_department")
    person = Person.objects.get(user=subject)
    existed = UserObjectPermission.objects.filter(
        user=staff,
        permission__codename="reveal_id_number",
        content_type__app_label="identity",
        object_pk=str(person.pk),
    ).exists()
    remove_perm("identity.reveal_id_number", staff, person)
    record_audit_event(
        actor=revoked_by,
        action="identity.reveal_permission_revoked",
        obj=person,
        data={
            "staff_id": staff.pk,
            "department_id": department,
            "existed": existed,
            "reason": " ".join((reason or "").split())[:200],
        },
    )
    return existed
