"""The case (办件) life-cycle as data (DOMAIN.md §1.6, STYLE.md M2).

Every state change of a case is one ``CaseAction``; ``TRANSITIONS`` says from which states the
action is allowed, which state it leads to and who may take it. Services consult this table and
nothing else, so the table *is* the state machine: the hypothesis state-machine test drives random
action sequences through the services and checks them against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.catalog.constants import ApplicantKind  # noqa: F401 (re-exported for cases)


class CaseStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已申报（收件）")
    PRECHECKED = "prechecked", _("已预审")
    AWAITING_SUPPLEMENT = "awaiting_supplement", _("待补正")
    SUPPLEMENTED = "supplemented", _("已补正待受理")
    ACCEPTED = "accepted", _("已受理")
    NOT_ACCEPTED = "not_accepted", _("不予受理")
    SUPPLEMENT_EXPIRED = "supplement_expired", _("逾期未补正")
    IN_REVIEW = "in_review", _("审查中")
    SUSPENDED = "suspended", _("特别程序（暂停计时）")
    DECIDED = "decided", _("已决定")
    COMPLETED = "completed", _("已办结")
    DELIVERED = "delivered", _("已送达")
    WITHDRAWN = "withdrawn", _("已撤回")


class CaseAction(models.TextChoices):
    SUBMIT = "submit", _("提交申请")
    PRECHECK = "precheck", _("网上预审通过")
    REQUEST_SUPPLEMENT = "request_supplement", _("一次性告知补正")
    RESUBMIT = "resubmit", _("提交补正材料")
    ACCEPT = "accept", _("受理")
    DEEM_ACCEPTED = "deem_accepted", _("逾期未告知补正，依法视为受理")
    ACCEPT_INSTANT = "accept_instant", _("即办件受理并办结")
    REJECT = "reject", _("不予受理")
    EXPIRE_SUPPLEMENT = "expire_supplement", _("补正期限届满未补正")
    START_REVIEW = "start_review", _("开始审查")
    SUSPEND = "suspend", _("启动特别程序")
    RESUME = "resume", _("特别程序结束")
    EXTEND = "extend", _("延长审批期限")
    DECIDE = "decide", _("作出决定")
    COMPLETE = "complete", _("办结")
    DELIVER = "deliver", _("送达")
    WITHDRAW = "withdraw", _("申请人撤回")


class Actor(models.TextChoices):
    """Who takes an action. A department acts through its staff or its API client."""

    APPLICANT = "applicant", _("申请人")
    CLERK = "clerk", _("窗口人员")
    DEPARTMENT = "department", _("审批部门")
    SYSTEM = "system", _("系统")


class Channel(models.TextChoices):
    """申报来源 / 办理形式 (GB/T 39046 A.5, simplified)."""

    ONLINE = "online", _("网上申报")
    WINDOW = "window", _("窗口申报")


class Decision(models.TextChoices):
    APPROVED = "approved", _("准予许可")
    PARTIAL = "partial", _("部分准予")
    DENIED = "denied", _("不予许可")


class CaseKind(models.TextChoices):
    """办件类型: matches ``ItemVersion.case_kind``."""

    INSTANT = "instant", _("即办件")
    PROMISED = "promised", _("承诺件")


class PauseKind(models.TextChoices):
    """Why the SLA clock stops (DOMAIN.md §0.1; GB/T 39046 A.7 code 2 "除延长审批之外的情况")."""

    SUPPLEMENT = "supplement", _("申请人补正材料")
    HEARING = "hearing", _("听证")
    INSPECTION = "inspection", _("检验、检测、检疫")
    APPRAISAL = "appraisal", _("鉴定")
    EXPERT_REVIEW = "expert_review", _("专家评审")
    ON_SITE = "on_site", _("现场核查")
    TENDER = "tender", _("招标、拍卖")
    OTHER = "other", _("其他特别程序")


class DayUnit(models.TextChoices):
    """补正告知时限单位 (DOMAIN.md §0.1: ``G`` 工作日 / ``Z`` 自然日)."""

    WORKING = "G", _("工作日")
    NATURAL = "Z", _("自然日")


class SlaLevel(models.TextChoices):
    YELLOW = "yellow", _("黄灯预警")
    RED = "red", _("红灯超期")


class MaterialSource(models.TextChoices):
    """How a material slot of the item version is satisfied."""

    UPLOAD = "upload", _("上传文件")
    LICENCE = "licence", _("电子证照")
    SHARED = "shared", _("共享数据")
    PAPER = "paper", _("窗口收取纸质材料")


class MaterialStatus(models.TextChoices):
    PENDING = "pending", _("待核验")
    ACCEPTED = "accepted", _("合格")
    DEFECTIVE = "defective", _("有缺陷")


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the state does not change (e.g. an extension)
    actors: frozenset[str]


def _t(sources: set[str], target: str | None, *actors: str) -> Transition:
    return Transition(frozenset(sources), target, frozenset(actors))


S = CaseStatus
_BEFORE_ACCEPTANCE = {S.SUBMITTED, S.PRECHECKED, S.SUPPLEMENTED}
_AT_WINDOW = {*_BEFORE_ACCEPTANCE, S.AWAITING_SUPPLEMENT}
# The applicant may withdraw (撤件) any time before a decision.
_WITHDRAWABLE = {
    S.SUBMITTED,
    S.PRECHECKED,
    S.AWAITING_SUPPLEMENT,
    S.SUPPLEMENTED,
    S.ACCEPTED,
    S.IN_REVIEW,
    S.SUSPENDED,
}

TRANSITIONS: dict[str, Transition] = {
    CaseAction.SUBMIT: _t({S.DRAFT}, S.SUBMITTED, Actor.APPLICANT, Actor.CLERK),
    CaseAction.PRECHECK: _t({S.SUBMITTED}, S.PRECHECKED, Actor.CLERK),
    # DOMAIN.md §1.5: one notice listing everything; a second notice after a resubmission may
    # only repeat materials of the first one (the service enforces that).
    CaseAction.REQUEST_SUPPLEMENT: _t(_BEFORE_ACCEPTANCE, S.AWAITING_SUPPLEMENT, Actor.CLERK),
    CaseAction.RESUBMIT: _t({S.AWAITING_SUPPLEMENT}, S.SUPPLEMENTED, Actor.APPLICANT),
    # Accepting from awaiting_supplement: the applicant brought the full supplement to the window.
    CaseAction.ACCEPT: _t({*_BEFORE_ACCEPTANCE, S.AWAITING_SUPPLEMENT}, S.ACCEPTED, Actor.CLERK),
    # 行政许可法 Art. 32: no supplement notice within 5 days of receipt -> accepted from receipt;
    # a full supplement not accepted or refused within 5 days -> accepted from its arrival.
    CaseAction.DEEM_ACCEPTED: _t(_BEFORE_ACCEPTANCE, S.ACCEPTED, Actor.SYSTEM),
    CaseAction.ACCEPT_INSTANT: _t(
        {*_BEFORE_ACCEPTANCE, S.AWAITING_SUPPLEMENT}, S.COMPLETED, Actor.CLERK
    ),
    CaseAction.REJECT: _t(_AT_WINDOW, S.NOT_ACCEPTED, Actor.CLERK),
    CaseAction.EXPIRE_SUPPLEMENT: _t({S.AWAITING_SUPPLEMENT}, S.SUPPLEMENT_EXPIRED, Actor.SYSTEM),
    CaseAction.START_REVIEW: _t({S.ACCEPTED}, S.IN_REVIEW, Actor.DEPARTMENT),
    CaseAction.SUSPEND: _t({S.IN_REVIEW}, S.SUSPENDED, Actor.DEPARTMENT),
    CaseAction.RESUME: _t({S.SUSPENDED}, S.IN_REVIEW, Actor.DEPARTMENT),
    # 特别程序 type 1 延长审批: the limit grows, the state stays.
    CaseAction.EXTEND: _t({S.IN_REVIEW}, None, Actor.DEPARTMENT),
    CaseAction.DECIDE: _t({S.IN_REVIEW}, S.DECIDED, Actor.DEPARTMENT),
    CaseAction.COMPLETE: _t({S.DECIDED}, S.COMPLETED, Actor.DEPARTMENT),
    CaseAction.DELIVER: _t({S.COMPLETED}, S.DELIVERED, Actor.CLERK, Actor.DEPARTMENT),
    CaseAction.WITHDRAW: _t(_WITHDRAWABLE, S.WITHDRAWN, Actor.APPLICANT),
}

TERMINAL_STATES = frozenset({S.NOT_ACCEPTED, S.SUPPLEMENT_EXPIRED, S.DELIVERED, S.WITHDRAWN})
# States in which the promised-time clock runs (or is paused, for SUSPENDED).
CLOCK_STATES = frozenset({S.ACCEPTED, S.IN_REVIEW, S.SUSPENDED})
# States a clerk's queue shows by default: work waiting for the window.
CLERK_QUEUE_STATES = frozenset({S.SUBMITTED, S.PRECHECKED, S.AWAITING_SUPPLEMENT, S.SUPPLEMENTED})
# States the office queue lists by default (everything still in process, oldest first); the
# partial queue indexes on ``Case`` carry the same list, so keep them in step (a migration).
OFFICE_QUEUE_STATES = (
    S.SUBMITTED,
    S.PRECHECKED,
    S.AWAITING_SUPPLEMENT,
    S.SUPPLEMENTED,
    S.ACCEPTED,
    S.IN_REVIEW,
    S.SUSPENDED,
    S.DECIDED,
    S.COMPLETED,
)
# States a department sees: handed over after acceptance.
DEPARTMENT_STATES = frozenset(
    {S.ACCEPTED, S.IN_REVIEW, S.SUSPENDED, S.DECIDED, S.COMPLETED, S.DELIVERED}
)


def target_of(action: str, current: str) -> str:
    """The state ``action`` leads to from ``current`` (``current`` itself for a self-loop)."""
    target = TRANSITIONS[action].target
    return current if target is None else target


def is_allowed(action: str, current: str) -> bool:
    return current in TRANSITIONS[action].sources


def allowed_actions(current: str, actor: str | None = None) -> list[str]:
    """Actions possible from ``current`` (for ``actor`` if given), in declaration order."""
    return [
        action
        for action, transition in TRANSITIONS.items()
        if current in transition.sources and (actor is None or actor in transition.actors)
    ]
