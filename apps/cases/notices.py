"""What the applicant is told about their case: one notice per public event.

``notify_case_event`` (the ``cases.notify_case_event`` task, scheduled on commit by every
case event) looks the event up in ``NOTICES``, works out who the applicant is
(``case_recipients``) and hands both to ``apps.notifications.services.send_notice``, which
writes the in-site message and queues the SMS as each person chose. The notice's key is the
event's id, so a retried task tells nobody twice.

Who is told:
- a person's case: the applicant and the person who acted (if someone else applied for them);
- an enterprise's case: its legal representative, and the agent who acted while their
  authorisation is still in force;
- anyone a registered resolver adds (``register_recipient_resolver``): the seam for applicants
  without an account (a walk-in's recorded phone: ``Recipient(phone=…)``, SMS only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.cases.constants import CaseAction, Decision
from apps.cases.models import Case, CaseEvent
from apps.core.i18n import join_list
from apps.notifications.kinds import register_kind
from apps.notifications.services import NoticeResult, Recipient, send_notice

SMS_SIGNATURE = "【江西政务服务】"


@dataclass(frozen=True)
class CaseNotice:
    kind: str
    title: str
    body: str
    sms: str
    url: str


# --- kinds (shown on the preferences page, in this order) ------------------------------------

KINDS = [
    ("cases.submitted", gettext_lazy("申请已提交（收件）"), False, False),
    ("cases.accepted", gettext_lazy("办件已受理"), True, False),
    ("cases.supplement_requested", gettext_lazy("需要补正材料（一次性告知）"), True, True),
    ("cases.supplement_received", gettext_lazy("补正材料已收到"), False, False),
    ("cases.not_accepted", gettext_lazy("不予受理"), True, True),
    ("cases.paused", gettext_lazy("特别程序、延长期限"), False, False),
    ("cases.decided", gettext_lazy("审批决定"), True, True),
    ("cases.completed", gettext_lazy("办结"), False, False),
    ("cases.delivered", gettext_lazy("结果送达"), False, False),
    ("cases.result_licence", gettext_lazy("结果证照已生成"), True, False),
    ("cases.closed", gettext_lazy("办件终止（撤回、逾期未补正）"), False, True),
]


def register_kinds() -> None:
    """Called from ``CasesConfig.ready()``."""
    for order, (code, label, sms, site_required) in enumerate(KINDS):
        register_kind(code, label, sms=sms, site_required=site_required, order=100 + order)


# --- recipients -------------------------------------------------------------------------------

RecipientResolver = Callable[[Case], Iterable[Recipient]]
_resolvers: list[RecipientResolver] = []


def register_recipient_resolver(fn: RecipientResolver) -> None:
    """Add recipients for a case (e.g. a walk-in applicant's recorded phone). Registering the
    same function twice has no effect."""
    if fn not in _resolvers:
        _resolvers.append(fn)


def unregister_recipient_resolver(fn: RecipientResolver) -> None:
    if fn in _resolvers:
        _resolvers.remove(fn)


def case_recipients(case: Case) -> list[Recipient]:
    """Everyone to tell about ``case`` (see the module docstring); staff are never included
    here (a window case's acting person is the applicant at the window, not the clerk)."""
    from apps.identity.models import AgentAuthorisation

    ids: list[int] = []
    if case.enterprise_id is None:
        ids += [case.applicant_user_id, case.acting_user_id]
    else:
        enterprise = case.enterprise
        ids.append(enterprise.legal_representative_id)
        if case.acting_user_id == enterprise.legal_representative_id:
            pass
        elif case.authorisation_id is not None:
            if (
                AgentAuthorisation.objects.active()
                .filter(pk=case.authorisation_id, agent_id=case.acting_user_id)
                .exists()
            ):
                ids.append(case.acting_user_id)
        else:
            from apps.identity.selectors import enterprise_capacity

            if enterprise_capacity(case.acting_user, enterprise) is not None:
                ids.append(case.acting_user_id)
    recipients = [Recipient(user_id=pk) for pk in dict.fromkeys(ids) if pk is not None]
    for resolver in _resolvers:
        recipients += list(resolver(case))
    return recipients


# --- what each event says ---------------------------------------------------------------------


def _date(value: Any) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d}" if value else "—"


def _sms(text: str) -> str:
    return SMS_SIGNATURE + text + _("详情请登录江西省一体化政务服务平台查看站内消息。")


def build_notice(event: CaseEvent) -> CaseNotice | None:
    """The notice for ``event``, or ``None`` when the event tells the applicant nothing new."""
    case = event.case
    item = case.item_version.name
    number = case.number or ""
    detail = reverse("cases:detail", args=[case.pk])
    facts = {"item": item, "number": number}
    action = event.action
    if action == CaseAction.SUBMIT:
        return CaseNotice(
            "cases.submitted",
            _("申请已提交：%(item)s") % facts,
            _("您申请的“%(item)s”已收件，办件编号 %(number)s。我们将在 5 个工作日内告知是否受理。")
            % facts,
            _sms(_("您申请的“%(item)s”已收件，办件编号 %(number)s。") % facts),
            detail,
        )
    if action in (CaseAction.ACCEPT, CaseAction.DEEM_ACCEPTED):
        facts["deadline"] = _date(case.deadline)
        text = (
            _("您申请的“%(item)s”（办件编号 %(number)s）已受理，承诺办结日期 %(deadline)s。")
            % facts
        )
        return CaseNotice(
            "cases.accepted",
            _("办件已受理：%(item)s") % facts,
            text,
            _sms(text),
            reverse("cases:notice", args=[case.pk, "acceptance"]),
        )
    if action == CaseAction.ACCEPT_INSTANT:
        text = _("您申请的“%(item)s”（办件编号 %(number)s）已当场办结。") % facts
        return CaseNotice(
            "cases.decided", _("办件已办结：%(item)s") % facts, text, _sms(text), detail
        )
    if action == CaseAction.REQUEST_SUPPLEMENT:
        notice = case.supplement_notices.filter(pk=event.data.get("notice_id")).first()
        names = join_list(entry["name"] for entry in notice.items) if notice else ""
        facts.update(names=names, due=_date(notice.due_at if notice else None))
        text = (
            _(
                "您申请的“%(item)s”（办件编号 %(number)s）需要补正材料：%(names)s。"
                "请于 %(due)s 前补正。"
            )
            % facts
        )
        return CaseNotice(
            "cases.supplement_requested",
            _("请补正材料：%(item)s") % facts,
            text,
            _sms(text),
            reverse("cases:notice", args=[case.pk, "supplement"]),
        )
    if action == CaseAction.RESUBMIT:
        text = _("您为“%(item)s”（办件编号 %(number)s）提交的补正材料已收到。") % facts
        return CaseNotice(
            "cases.supplement_received",
            _("补正材料已收到：%(item)s") % facts,
            text,
            _sms(text),
            detail,
        )
    if action == CaseAction.REJECT:
        facts["reason"] = case.not_accepted_reason
        text = _("您申请的“%(item)s”（办件编号 %(number)s）不予受理。理由：%(reason)s") % facts
        return CaseNotice(
            "cases.not_accepted",
            _("不予受理：%(item)s") % facts,
            text,
            _sms(_("您申请的“%(item)s”（办件编号 %(number)s）不予受理。") % facts),
            reverse("cases:notice", args=[case.pk, "not-accepted"]),
        )
    if action in (CaseAction.EXPIRE_SUPPLEMENT, CaseAction.WITHDRAW):
        if action == CaseAction.WITHDRAW:
            text = _("您已撤回“%(item)s”的申请（办件编号 %(number)s）。") % facts
        else:
            text = (
                _("“%(item)s”（办件编号 %(number)s）补正期限已届满，未收到补正材料，办件终止。")
                % facts
            )
        return CaseNotice("cases.closed", _("办件终止：%(item)s") % facts, text, _sms(text), detail)
    if action in (CaseAction.SUSPEND, CaseAction.RESUME, CaseAction.EXTEND):
        facts["note"] = event.note
        facts["deadline"] = _date(case.deadline)
        if action == CaseAction.SUSPEND:
            title = _("启动特别程序，暂停计时：%(item)s") % facts
            text = _("“%(item)s”（办件编号 %(number)s）依法启动特别程序：%(note)s") % facts
        elif action == CaseAction.RESUME:
            title = _("特别程序结束，恢复计时：%(item)s") % facts
            text = (
                _("“%(item)s”（办件编号 %(number)s）特别程序结束，承诺办结日期 %(deadline)s。")
                % facts
            )
        else:
            title = _("审批期限延长：%(item)s") % facts
            text = (
                _("“%(item)s”（办件编号 %(number)s）审批期限延长至 %(deadline)s。理由：%(note)s")
                % facts
            )
        return CaseNotice("cases.paused", title, text, _sms(title), detail)
    if action == CaseAction.DECIDE:
        facts["decision"] = Decision(case.decision).label if case.decision else ""
        text = _("您申请的“%(item)s”（办件编号 %(number)s）已作出决定：%(decision)s。") % facts
        return CaseNotice(
            "cases.decided",
            _("审批决定：%(item)s") % facts,
            text + _("请查看决定书及领取方式。"),
            _sms(text),
            reverse("cases:notice", args=[case.pk, "decision"]),
        )
    if action == CaseAction.COMPLETE:
        text = _("“%(item)s”（办件编号 %(number)s）已办结。") % facts
        return CaseNotice(
            "cases.completed", _("办件已办结：%(item)s") % facts, text, _sms(text), detail
        )
    if action == CaseAction.DELIVER:
        text = _("“%(item)s”（办件编号 %(number)s）的办理结果已送达。") % facts
        return CaseNotice(
            "cases.delivered", _("结果已送达：%(item)s") % facts, text, _sms(text), detail
        )
    if action == "result_licence":
        facts["licence"] = event.note
        text = _("“%(item)s”的结果证照“%(licence)s”已生成，可在电子证照中查看。") % facts
        return CaseNotice(
            "cases.result_licence", _("结果证照已生成：%(item)s") % facts, text, _sms(text), detail
        )
    return None


def notify_case_event(event: CaseEvent) -> NoticeResult | None:
    """Tell the applicant about a public ``event`` (idempotent under ``cases.event:<id>``)."""
    if not event.is_public:
        return None
    notice = build_notice(event)
    if notice is None:
        return None
    return send_notice(
        recipients=case_recipients(event.case),
        key=f"cases.event:{event.pk}",
        kind=notice.kind,
        title=notice.title,
        body=notice.body,
        url=notice.url,
        sms_text=notice.sms,
    )
