"""Vocabularies of the handoff outbox: states and their transitions, delivery modes, outcomes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class HandoffState(models.TextChoices):
    """Where a handoff (跨部门交接) stands in the outbox.

    ``delivered`` means the handoff is in the target's hands but not yet confirmed: it sits in the
    pull inbox or in the office queue. ``acknowledged`` means the target confirmed receipt (a 2xx to
    a signed push, an inbox ack, or an answer).
    """

    PENDING = "pending", _("待投递")
    SENDING = "sending", _("投递中")
    DELIVERED = "delivered", _("已送达待签收")
    ACKNOWLEDGED = "acknowledged", _("已签收")
    DEAD = "dead", _("投递失败（死信）")


# STYLE.md M2: allowed transitions as data. ``acknowledged`` is terminal; ``dead`` leaves only
# through an administrator's retry or re-route. An answer from the target proves receipt, so it
# may acknowledge from any non-terminal state (and from ``dead``: the target evidently has it).
TRANSITIONS: dict[str, frozenset[str]] = {
    HandoffState.PENDING: frozenset(
        {HandoffState.SENDING, HandoffState.DELIVERED, HandoffState.ACKNOWLEDGED, HandoffState.DEAD}
    ),
    HandoffState.SENDING: frozenset(
        {HandoffState.PENDING, HandoffState.DELIVERED, HandoffState.ACKNOWLEDGED, HandoffState.DEAD}
    ),
    HandoffState.DELIVERED: frozenset({HandoffState.ACKNOWLEDGED}),
    HandoffState.ACKNOWLEDGED: frozenset(),
    HandoffState.DEAD: frozenset({HandoffState.PENDING, HandoffState.ACKNOWLEDGED}),
}

# States in which the target has not yet confirmed receipt: the pull inbox shows these.
OPEN_STATES = (HandoffState.PENDING, HandoffState.SENDING, HandoffState.DELIVERED)


class DeliveryMode(models.TextChoices):
    PUSH = "push", _("推送（签名回调）")
    PULL = "pull", _("拉取（收件箱接口）")
    INTERNAL = "internal", _("平台内办理（办公工作台）")


class AttemptOutcome(models.TextChoices):
    IN_PROGRESS = "in_progress", _("进行中")
    ACKNOWLEDGED = "acknowledged", _("对方已确认")
    DELIVERED = "delivered", _("已送达")
    RETRY = "retry", _("暂时失败，将重试")
    FAILED = "failed", _("失败，不再重试")
    LOST = "lost", _("中断（进程退出或超时）")


class AnswerKind(models.TextChoices):
    RECEIVED = "received", _("已接收")
    DECISION = "decision", _("办理决定")
