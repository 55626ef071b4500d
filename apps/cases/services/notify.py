"""Telling people about a case: timeline events, walk-ins by SMS and SLA warnings."""

from __future__ import annotations

import logging

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.cases import notices
from apps.cases.constants import (
    CaseAction,
)
from apps.cases.models import (
    Case,
    CaseEvent,
    SlaWarning,
)

logger = logging.getLogger(__name__)


def notify_case_event(*, event_id: int) -> None:
    """Tell the people concerned about a timeline event: a walk-in without an account by SMS,
    the applicant and acting person through the message centre (``apps.cases.notices``), and a
    log line with the recipients' ids (no personal data, STYLE.md N5). Idempotent.
    """
    event = CaseEvent.objects.select_related("case").filter(pk=event_id).first()
    if event is None or not event.is_public:
        return
    case = event.case
    notify_walk_in_by_sms(event)
    notices.notify_case_event(event)
    logger.info(
        "case.notify",
        extra={
            "event_id": event.pk,
            "case_id": case.pk,
            "action": event.action,
            "to_status": event.to_status,
            "applicant_user_id": case.applicant_user_id,
            "acting_user_id": case.acting_user_id,
            "department_id": case.department_id,
        },
    )


# Timeline events a person served at the window without an account is told of by SMS.
WALK_IN_SMS_ACTIONS = {
    CaseAction.ACCEPT: gettext_lazy("已受理"),
    CaseAction.ACCEPT_INSTANT: gettext_lazy("已受理并办结"),
    CaseAction.REQUEST_SUPPLEMENT: gettext_lazy("需要补正材料"),
    CaseAction.REJECT: gettext_lazy("不予受理"),
    CaseAction.DECIDE: gettext_lazy("已作出决定"),
    CaseAction.COMPLETE: gettext_lazy("已办结"),
}


def notify_walk_in_by_sms(event: CaseEvent) -> bool:
    """SMS to the contact phone the clerk recorded for a walk-in without an account (the
    person, or the enterprise's agent), until the case is claimed on an account (then the
    account's notices take over). Once per event (a retried task sends nothing twice).
    Returns whether a message was sent."""
    from django.core.cache import cache

    from apps.identity.models import WalkInPerson
    from apps.notifications.sms import send_sms

    case = event.case
    label = WALK_IN_SMS_ACTIONS.get(event.action)
    if label is None or case.walk_in_person_id is None or case.acting_user_id is not None:
        return False
    person = WalkInPerson.objects.filter(pk=case.walk_in_person_id).first()
    if person is None or not person.phone:
        return False
    if not cache.add(f"cases:walk-in-sms:{event.pk}", 1, timeout=7 * 24 * 3600):
        return False
    text = _(
        "【江西政务服务】您在窗口申请的“%(item)s”（办件编号%(number)s）%(what)s。"
        "用本人身份证号码注册并实名认证后，可在“我的办件”查看详情。"
    ) % {"item": case.item_version.name, "number": case.number, "what": label}
    send_sms(to=person.phone, text=text)
    logger.info("case.walk_in_sms_sent", extra={"event_id": event.pk, "case_id": case.pk})
    return True


def sla_warning_recipients(case: Case) -> list[int]:
    """Who hears of a warning: the case's clerks (clerks of its hall for a walk-in case, the
    department's clerks for an online one, and whoever accepted it) and the department
    (its department admins and reviewers). Active staff only."""
    from apps.identity.constants import StaffRole
    from apps.identity.models import StaffMembership

    staff = StaffMembership.objects.filter(
        department_id=case.department_id, is_active=True, user__is_active=True
    )
    clerks = staff.filter(role=StaffRole.CLERK)
    if case.hall_id is not None:
        clerks = clerks.filter(hall_id=case.hall_id)
    department = staff.filter(role__in=[StaffRole.DEPT_ADMIN, StaffRole.REVIEWER])
    ids = set(clerks.values_list("user_id", flat=True))
    ids |= set(department.values_list("user_id", flat=True))
    if case.accepted_by_id is not None and staff.filter(user_id=case.accepted_by_id).exists():
        ids.add(case.accepted_by_id)
    return sorted(ids)


def notify_sla_warning(*, warning_id: int) -> int:
    """Tell the case's clerks and the department about a warning (站内消息, once per
    (recipient, case, level): a retried task notifies nobody twice). Returns notices created."""
    from django.urls import reverse

    from apps.notifications.services import notify_users

    warning = SlaWarning.objects.select_related("case").filter(pk=warning_id).first()
    if warning is None:
        return 0
    case = warning.case
    if warning.level == "red":
        title = _("办件 %(number)s 已超期") % {"number": case.number}
    else:
        title = _("办件 %(number)s 即将超期") % {"number": case.number}
    body = _("承诺办结日期：%(deadline)s；剩余工作日：%(days)s") % {
        "deadline": f"{timezone.localtime(warning.deadline):%Y-%m-%d}",
        "days": warning.days_left,
    }
    created = notify_users(
        recipients=sla_warning_recipients(case),
        key=f"cases.sla_warning:{case.pk}:{warning.level}",
        kind="cases.sla_warning",
        title=title,
        body=body,
        url=reverse("office-cases:case", args=[case.pk]),
    )
    logger.warning(
        "case.sla_warning",
        extra={
            "warning_id": warning.pk,
            "case_id": warning.case_id,
            "sla_level": warning.level,
            "department_id": case.department_id,
            "days_left": warning.days_left,
            "notified": created,
        },
    )
    return created
