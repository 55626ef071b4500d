"""The handoff outbox (前店后厂): what the portal owes to departments' back offices.

A ``Handoff`` row is written in the same transaction as the change that causes it (a case
accepted, a bundle child started) and is delivered afterwards by a Celery task, a beat sweeper
and, for pull departments, the department's own system. The subject (a case, …) is stored as a
type label + id + human reference so this app never imports the apps that use it
(ARCHITECTURE.md: handoffs depends only on core and a small interface).
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.models import Department, TimeStampedModel
from apps.handoffs.constants import (
    TRANSITIONS,
    AnswerKind,
    AttemptOutcome,
    DeliveryMode,
    HandoffState,
)
from apps.handoffs.fields import EncryptedJSONField

# Bumped when the shape of ``Handoff.payload`` / the push envelope changes incompatibly; the
# version travels with every delivery so a department can branch on it.
PAYLOAD_VERSION = 1


class DepartmentEndpoint(TimeStampedModel):
    """How one department receives handoffs (交接接收配置). No row means ``internal``."""

    department = models.OneToOneField(
        Department,
        verbose_name=_("部门"),
        on_delete=models.CASCADE,
        related_name="handoff_endpoint",
    )
    mode = models.CharField(
        _("接收方式"), max_length=16, choices=DeliveryMode.choices, default=DeliveryMode.INTERNAL
    )
    push_url = models.URLField(
        _("推送地址"), max_length=500, blank=True, help_text=_("推送方式必填，须为 http(s) 地址")
    )
    timeout_seconds = models.PositiveSmallIntegerField(
        _("超时（秒）"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("每次推送的连接与读取超时"),
    )
    max_attempts = models.PositiveSmallIntegerField(
        _("最大投递次数"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("超过后转入死信，由管理员重试或改派"),
    )
    replay_window_seconds = models.PositiveIntegerField(
        _("防重放时间窗（秒）"),
        default=300,
        validators=[MinValueValidator(30), MaxValueValidator(3600)],
        help_text=_("接收方拒绝时间戳偏差超过该值的请求"),
    )
    is_active = models.BooleanField(
        _("启用"), default=True, help_text=_("停用后交接进入平台内办理队列")
    )

    class Meta:
        verbose_name = _("交接接收配置")
        verbose_name_plural = _("交接接收配置")
        constraints = [
            models.CheckConstraint(
                condition=~Q(mode=DeliveryMode.PUSH) | ~Q(push_url=""),
                name="handoffs_endpoint_push_needs_url",
            )
        ]

    def __str__(self) -> str:
        return f"{self.department} · {self.get_mode_display()}"


class SigningKey(TimeStampedModel):
    """An HMAC-SHA256 key shared with a push department (签名密钥).

    Rotation: add a new key (both are active and every push carries one signature per active
    key), let the department install it, then deactivate the old one. See docs/handoffs.md.
    """

    endpoint = models.ForeignKey(
        DepartmentEndpoint,
        verbose_name=_("接收配置"),
        on_delete=models.CASCADE,
        related_name="keys",
    )
    key_id = models.CharField(
        _("密钥编号"),
        max_length=32,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", _("密钥编号只能包含字母、数字、-、_"))],
    )
    secret = models.CharField(_("密钥"), max_length=128)
    is_active = models.BooleanField(_("有效"), default=True)
    deactivated_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("签名密钥")
        verbose_name_plural = _("签名密钥")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "key_id"], name="handoffs_signingkey_unique_id"
            )
        ]

    def __str__(self) -> str:
        return self.key_id


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class Handoff(TimeStampedModel):
    """One cross-department handoff (跨部门交接) in the outbox."""

    subject_type = models.CharField(_("对象类型"), max_length=64)
    subject_id = models.CharField(_("对象编号"), max_length=64)
    subject_reference = models.CharField(_("对象标识"), max_length=64, blank=True)
    event = models.CharField(_("事件"), max_length=64)
    source_department = models.ForeignKey(
        Department,
        verbose_name=_("发起部门"),
        on_delete=models.PROTECT,
        related_name="handoffs_sent",
    )
    target_department = models.ForeignKey(
        Department,
        verbose_name=_("接收部门"),
        on_delete=models.PROTECT,
        related_name="handoffs_received",
    )
    # Encrypted at rest (the form carries ID and phone numbers): apps/handoffs/fields.py.
    # Deferred by every query that does not send or serve it (selectors, services).
    payload = EncryptedJSONField(_("交接内容"), default=dict)
    payload_version = models.PositiveSmallIntegerField(_("内容版本"), default=PAYLOAD_VERSION)
    idempotency_key = models.CharField(
        _("幂等键"), max_length=128, unique=True, default=new_idempotency_key
    )
    state = models.CharField(
        _("状态"),
        max_length=16,
        choices=HandoffState.choices,
        default=HandoffState.PENDING,
    )
    mode = models.CharField(_("接收方式"), max_length=16, choices=DeliveryMode.choices, blank=True)
    attempts = models.PositiveIntegerField(
        _("本轮投递次数"), default=0, help_text=_("管理员重试或改派后重新计数")
    )
    max_attempts = models.PositiveSmallIntegerField(_("最大投递次数"), default=10)
    next_attempt_at = models.DateTimeField(_("下次投递时间"), null=True, blank=True)
    enqueued_at = models.DateTimeField(_("最近入队时间"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("开始投递时间"), null=True, blank=True)
    current_attempt = models.ForeignKey(
        "HandoffAttempt",
        verbose_name=_("当前投递"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_error = models.TextField(_("最近错误"), blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    dead_at = models.DateTimeField(_("转入死信时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("跨部门交接")
        verbose_name_plural = _("跨部门交接")
        indexes = [
            # The sweeper and the worker's claim: open rows by due time.
            models.Index(fields=["state", "next_attempt_at"], name="handoff_state_due_idx"),
            # The pull inbox and the office queue: a department's open rows in order.
            models.Index(fields=["target_department", "state", "id"], name="handoff_inbox_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="handoff_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event} {self.subject_reference or self.subject_id}"

    @property
    def event_label(self) -> str:
        """What the office screens show for ``event`` (apps.handoffs.registry)."""
        from apps.handoffs.registry import event_label

        return event_label(self.event)

    @property
    def subject_type_label(self) -> str:
        from apps.handoffs.registry import subject_type_label

        return subject_type_label(self.subject_type)

    def can_transition(self, to: str) -> bool:
        return to in TRANSITIONS[self.state]

    @property
    def is_open(self) -> bool:
        return self.state in (HandoffState.PENDING, HandoffState.SENDING, HandoffState.DELIVERED)


class HandoffAttempt(TimeStampedModel):
    """One delivery attempt: claimed, then its outcome recorded (STYLE.md T4)."""

    handoff = models.ForeignKey(
        Handoff, verbose_name=_("交接"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField(_("序号"))
    mode = models.CharField(_("接收方式"), max_length=16, choices=DeliveryMode.choices)
    delivery_id = models.UUIDField(_("投递编号"), default=uuid.uuid4, unique=True)
    outcome = models.CharField(
        _("结果"),
        max_length=16,
        choices=AttemptOutcome.choices,
        default=AttemptOutcome.IN_PROGRESS,
    )
    status_code = models.PositiveSmallIntegerField(_("HTTP 状态码"), null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("投递记录")
        verbose_name_plural = _("投递记录")
        ordering = ["handoff", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["handoff", "number"], name="handoffs_attempt_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.handoff_id}/{self.number} {self.outcome}"


class HandoffAnswer(TimeStampedModel):
    """A department's answer (received, decision), applied once per idempotency key."""

    handoff = models.ForeignKey(
        Handoff, verbose_name=_("交接"), on_delete=models.CASCADE, related_name="answers"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("答复部门"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("答复类型"), max_length=16, choices=AnswerKind.choices)
    idempotency_key = models.CharField(_("幂等键"), max_length=128)
    data = models.JSONField(_("答复内容"), default=dict)
    handler_applied = models.BooleanField(_("已由业务处理"), default=False)

    class Meta:
        verbose_name = _("部门答复")
        verbose_name_plural = _("部门答复")
        ordering = ["created_at", "pk"]
        constraints = [
            # The key is the department's own: unique per answering department.
            models.UniqueConstraint(
                fields=["department", "idempotency_key"], name="handoffs_answer_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.handoff_id} {self.kind} {self.idempotency_key}"


class IdempotentRequest(TimeStampedModel):
    """A department's ``Idempotency-Key`` on the case API and the result it got (幂等请求记录).

    Reserved (``in_progress``) before the request runs and completed with the response when it
    succeeded, so a repeat returns the stored result instead of acting again. The fingerprint
    (method, path, body) tells a repeat from a different request that reuses the key. See
    ``apps.handoffs.idempotency`` and docs/handoffs.md "Answers".
    """

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", _("处理中")
        COMPLETED = "completed", _("已完成")

    department = models.ForeignKey(
        Department, verbose_name=_("请求部门"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(_("幂等键"), max_length=128)
    fingerprint = models.CharField(_("请求指纹"), max_length=64)
    method = models.CharField(_("请求方法"), max_length=8)
    path = models.CharField(_("请求路径"), max_length=300)
    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.IN_PROGRESS
    )
    response_status = models.PositiveSmallIntegerField(_("响应状态码"), null=True, blank=True)
    response_body = models.JSONField(_("响应内容"), null=True, blank=True)

    class Meta:
        verbose_name = _("幂等请求记录")
        verbose_name_plural = _("幂等请求记录")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "key"], name="handoffs_idempotent_request_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.department_id}:{self.key} {self.state}"
