"""好差评 vocabularies (DOMAIN.md §2) and the one place where grade and channel codes are mapped.

We store the *meaning* of a grade (``Grade``), never a number. The two code orders in use are:

* GB/T 39046-2020 A.8 满意度代码: 1 非常满意 … 5 非常不满意;
* the national/provincial 好差评 push interface (``satisfaction``): 1 非常不满意 … 5 非常满意,
  the **reverse** of A.8 (DOMAIN.md §2.3 ⚠).

``GB_CODE`` and ``NATIONAL_CODE`` below are the only tables that turn a grade into a number;
everything else (push payloads, CSV, statistics) goes through them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Grade(models.TextChoices):
    VERY_SATISFIED = "very_satisfied", _("非常满意")
    SATISFIED = "satisfied", _("满意")
    BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")
    VERY_DISSATISFIED = "very_dissatisfied", _("非常不满意")


# GB/T 39046-2020 表 A.8 满意度代码.
GB_CODE: dict[str, int] = {
    Grade.VERY_SATISFIED: 1,
    Grade.SATISFIED: 2,
    Grade.BASICALLY_SATISFIED: 3,
    Grade.DISSATISFIED: 4,
    Grade.VERY_DISSATISFIED: 5,
}
# The national 好差评 push interface (``satisfaction`` / ``alternate``): the reverse of A.8.
NATIONAL_CODE: dict[str, int] = {
    Grade.VERY_DISSATISFIED: 1,
    Grade.DISSATISFIED: 2,
    Grade.BASICALLY_SATISFIED: 3,
    Grade.SATISFIED: 4,
    Grade.VERY_SATISFIED: 5,
}
GRADE_FROM_GB_CODE = {code: grade for grade, code in GB_CODE.items()}
GRADE_FROM_NATIONAL_CODE = {code: grade for grade, code in NATIONAL_CODE.items()}
# The 5-point score used for the average (非常满意 = 5 … 非常不满意 = 1); same order as the
# national interface, so it is that table, named for what it is used for.
SCORE = NATIONAL_CODE
# 差评 = 不满意 + 非常不满意 (DOMAIN.md §2.2). 好评 = the other three (Guangdong's reading, which
# counts 基本满意 as not bad; docs/reviews.md "Definitions").
BAD_GRADES = frozenset({Grade.DISSATISFIED, Grade.VERY_DISSATISFIED})
GRADES_BEST_FIRST = [
    Grade.VERY_SATISFIED,
    Grade.SATISFIED,
    Grade.BASICALLY_SATISFIED,
    Grade.DISSATISFIED,
    Grade.VERY_DISSATISFIED,
]


def is_bad(grade: str) -> bool:
    return grade in BAD_GRADES


class RatingChannel(models.TextChoices):
    """评价渠道 (GB/T 39046 表9; national ``pf``). Stored as names; numbers only at the
    boundary through ``CHANNEL_CODES``."""

    PC = "pc", _("PC端")
    MOBILE = "mobile", _("移动端")
    QR = "qr", _("二维码")
    HALL_PAD = "hall_pad", _("政务大厅平板电脑")
    HALL_TERMINAL = "hall_terminal", _("政务大厅其他终端")
    PHONE = "phone", _("电话")
    SMS = "sms", _("短信")
    SYSTEM_DEFAULT = "system_default", _("系统默认评价")


# The push interface's ``pf`` code per channel, per interface variant (DOMAIN.md §2.3). The
# national list has no code for a default rating (it is pushed with ``pf`` empty and
# ``isDefault`` 1); Zhejiang's variant moves 短信 to 6 and uses 7 for 系统默认评价 and has no
# 电话. ``settings.REVIEWS_CHANNEL_VARIANT`` picks the table.
CHANNEL_CODES: dict[str, dict[str, str]] = {
    "national": {
        RatingChannel.PC: "1",
        RatingChannel.MOBILE: "2",
        RatingChannel.QR: "3",
        RatingChannel.HALL_PAD: "4",
        RatingChannel.HALL_TERMINAL: "5",
        RatingChannel.PHONE: "6",
        RatingChannel.SMS: "7",
        RatingChannel.SYSTEM_DEFAULT: "",
    },
    "zhejiang": {
        RatingChannel.PC: "1",
        RatingChannel.MOBILE: "2",
        RatingChannel.QR: "3",
        RatingChannel.HALL_PAD: "4",
        RatingChannel.HALL_TERMINAL: "5",
        RatingChannel.PHONE: "",
        RatingChannel.SMS: "6",
        RatingChannel.SYSTEM_DEFAULT: "7",
    },
}
ONLINE_CHANNELS = frozenset({RatingChannel.PC, RatingChannel.MOBILE})
# Channels a person may use (the default channel is the system's alone).
# The longest free-text comment a rater may type (characters, after trimming).
COMMENT_MAX = 500

CITIZEN_CHANNELS = [c for c in RatingChannel.values if c != RatingChannel.SYSTEM_DEFAULT]


class ChannelKind(models.TextChoices):
    """Which indicator set applies: 线上 (portal/app) or 线下 (hall, phone, SMS)."""

    ONLINE = "online", _("线上")
    OFFLINE = "offline", _("线下")


def channel_kind(channel: str) -> str:
    return ChannelKind.ONLINE if channel in ONLINE_CHANNELS else ChannelKind.OFFLINE


class ReviewNode(models.TextChoices):
    """Earlier case nodes a region may open to rating (一事一评 "after a service node",
    DOMAIN.md §2.4); 办结 is always rateable. A node is rateable while the case is at it: the
    value is the case status of that node."""

    ACCEPTED = "accepted", _("受理")
    NOT_ACCEPTED = "not_accepted", _("不予受理")
    AWAITING_SUPPLEMENT = "awaiting_supplement", _("一次性告知补正")
    IN_REVIEW = "in_review", _("审查")


class ServiceKind(models.TextChoices):
    """What was rated: a case (一事一评) or one window service contact (一次一评)."""

    CASE = "case", _("办件（一事一评）")
    WINDOW = "window", _("窗口服务（一次一评）")


class RatingSource(models.TextChoices):
    RATER = "rater", _("评价人")
    SYSTEM_DEFAULT = "system_default", _("逾期未评系统默认")


class ModerationStatus(models.TextChoices):
    """审核状态 of the free text (national ``appStatus``: 1 无需审核, 2 已审核, 3 未审核)."""

    NOT_NEEDED = "not_needed", _("无需审核")
    HELD = "held", _("待审核")
    APPROVED = "approved", _("审核通过")
    REJECTED = "rejected", _("审核不通过（不予公开）")


NATIONAL_APP_STATUS = {
    ModerationStatus.NOT_NEEDED: "1",
    ModerationStatus.APPROVED: "2",
    ModerationStatus.REJECTED: "2",
    ModerationStatus.HELD: "3",
}


class TicketStatus(models.TextChoices):
    """差评工单 (DOMAIN.md §2.5)."""

    NEW = "new", _("待核实")
    VERIFYING = "verifying", _("核实中")
    RECTIFYING = "rectifying", _("整改中")
    AWAITING_FEEDBACK = "awaiting_feedback", _("待评价人反馈")
    CLOSED = "closed", _("已办结")
    APPEALED = "appealed", _("申诉中")
    APPEAL_UPHELD = "appeal_upheld", _("申诉成立")


TICKET_TRANSITIONS: dict[str, set[str]] = {
    TicketStatus.NEW: {TicketStatus.VERIFYING, TicketStatus.APPEALED},
    TicketStatus.VERIFYING: {TicketStatus.RECTIFYING, TicketStatus.APPEALED},
    TicketStatus.RECTIFYING: {TicketStatus.AWAITING_FEEDBACK, TicketStatus.APPEALED},
    TicketStatus.AWAITING_FEEDBACK: {TicketStatus.CLOSED},
    TicketStatus.CLOSED: set(),
    # A rejected appeal sends the ticket back to the state it was appealed from.
    TicketStatus.APPEALED: {
        TicketStatus.APPEAL_UPHELD,
        TicketStatus.NEW,
        TicketStatus.VERIFYING,
        TicketStatus.RECTIFYING,
    },
    TicketStatus.APPEAL_UPHELD: set(),
}
OPEN_TICKET_STATES = frozenset(
    {TicketStatus.NEW, TicketStatus.VERIFYING, TicketStatus.RECTIFYING, TicketStatus.APPEALED}
)
# Rectified (整改到位): measures and result recorded, whatever the rater answers afterwards.
RECTIFIED_STATES = frozenset({TicketStatus.AWAITING_FEEDBACK, TicketStatus.CLOSED})


class FollowUpChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    SMS = "sms", _("短信")
    VISIT = "visit", _("上门/面谈")
    ONLINE = "online", _("网上留言")


class FollowUpResult(models.TextChoices):
    REACHED = "reached", _("已联系上，情况已核实")
    NOT_REACHED = "not_reached", _("未联系上")
    DECLINED = "declined", _("评价人不愿沟通")


class AppealGround(models.TextChoices):
    """申诉理由 (DOMAIN.md §2.5)."""

    NOT_OURS = "not_ours", _("非本部门事项")
    MALICIOUS = "malicious", _("恶意差评")
    MISTAKEN = "mistaken", _("误评（事项或人员不符）")
    TEST = "test", _("测试评价")


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("待复核")
    UPHELD = "upheld", _("申诉成立")
    REJECTED = "rejected", _("申诉不成立")


class RaterAnswer(models.TextChoices):
    """评价人对整改结果的反馈."""

    SATISFIED = "satisfied", _("满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class Dimension(models.TextChoices):
    """Statistics dimensions of the rollups (DOMAIN.md §2.6)."""

    TOTAL = "total", _("全部")
    REGION = "region", _("地区")
    DEPARTMENT = "department", _("部门")
    ITEM = "item", _("事项")
    HALL = "hall", _("大厅")
    WINDOW = "window", _("窗口")
    STAFF = "staff", _("工作人员")
    CHANNEL = "channel", _("渠道")
