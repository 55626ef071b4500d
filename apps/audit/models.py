"""Append-only, hash-chained audit trail (全程留痕).

Each event stores the hash of its predecessor, so editing or deleting any row breaks the chain
from that row on; ``AuditChainHead`` holds the newest sequence number and hash, so deleting the
tail is detected too, and it is the lock that keeps concurrent writers from forking the chain.
On PostgreSQL a trigger also refuses UPDATE and DELETE on the events table.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    # Deliberately not a TimeStampedModel: an append-only row has no "updated_at".
    seq = models.BigIntegerField(_("序号"), unique=True)
    occurred_at = models.DateTimeField(_("时间"), db_index=True)
    # No database FK: deleting or anonymising a user must never touch the trail.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_repr = models.CharField(_("操作人标识"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象标识"), max_length=64, blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)
    # Text, not inet: the hash covers the exact string, which inet would normalise.
    ip = models.CharField(_("IP 地址"), max_length=45, null=True, blank=True)
    prev_hash = models.CharField(_("前一哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """Singleton row (pk=1): the newest event of the chain. Locked by every writer."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"head seq={self.seq}"
