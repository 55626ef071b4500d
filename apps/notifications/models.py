"""In-app notices (站内消息), the SMS outbox and each person's channel preferences.

The ``key`` names what a notice is about (e.g. ``cases.event:<event id>``), so a sender that
runs twice (a retried task, a second beat run) never notifies twice: one ``Notification`` per
(recipient, key), one ``SmsMessage`` per (key, recipient).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel
from apps.identity.pii import EncryptedTextField


class Notification(TimeStampedModel):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    key = models.CharField(_("消息标识"), max_length=120)
    kind = models.CharField(_("消息类型"), max_length=40)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notifications_once_per_key")
        ]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(TimeStampedModel):
    """A person's choice of channels for one kind of notice (only rows that differ from the
    kind's defaults need exist; ``apps.notifications.kinds``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(_("消息类型"), max_length=40)
    site = models.BooleanField(_("站内消息"), default=True)
    sms = models.BooleanField(_("短信"), default=False)

    class Meta:
        verbose_name = _("消息接收设置")
        verbose_name_plural = _("消息接收设置")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notifications_pref_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class SmsStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class SmsMessage(TimeStampedModel):
    """SMS outbox (STYLE.md S6): written with the notice, delivered by ``notifications.send_sms``.

    ``recipient_key`` is ``u<user id>`` for an account holder, or ``p<phone blind index>`` for
    a person without an account (a walk-in applicant), so a retry never texts anyone twice.
    """

    key = models.CharField(_("消息标识"), max_length=120)
    recipient_key = models.CharField(_("接收人标识"), max_length=80)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("消息类型"), max_length=40)
    phone = EncryptedTextField(_("手机号码（加密）"))
    text = models.TextField(_("短信内容"))
    status = models.CharField(
        _("状态"), max_length=16, choices=SmsStatus.choices, default=SmsStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("短信")
        verbose_name_plural = _("短信")
        constraints = [
            models.UniqueConstraint(fields=["key", "recipient_key"], name="notifications_sms_once")
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.key} {self.recipient_key} {self.status}"
