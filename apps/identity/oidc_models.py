"""What a person agreed to when signing in to a department system (SSO, DOMAIN.md §4.6).

One ``SsoSignIn`` per consent: the assurance level at that moment (the ``acr`` of every token
that follows from it), the enterprise the person chose to act for and in what capacity. It is
linked to the authorization code while that exists and then to the current access token, so
the token endpoint and userinfo release the same context. Imported by ``models.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel


class ActingCapacity(models.TextChoices):
    """How a person acts for an enterprise (DOMAIN.md §4.3)."""

    LEGAL_REP = "legal_rep", _("法定代表人")
    LICENCE_ADMIN = "licence_admin", _("证照管理员")
    AGENT = "agent", _("经办人")


class SsoSignIn(TimeStampedModel):
    application = models.ForeignKey(
        "oauth2_provider.Application",
        verbose_name=_("接入系统"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="sso_sign_ins",
    )
    scope = models.TextField(_("授权范围"))
    acr_level = models.PositiveSmallIntegerField(_("登录时实名等级"))
    auth_time = models.DateTimeField(_("登录认证时间"))
    enterprise = models.ForeignKey(
        "identity.Enterprise",
        verbose_name=_("代表的法人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    capacity = models.CharField(
        _("办事身份"), max_length=16, choices=ActingCapacity.choices, blank=True
    )
    authorisation = models.ForeignKey(
        "identity.AgentAuthorisation",
        verbose_name=_("经办人授权"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    grant = models.OneToOneField(
        "oauth2_provider.Grant",
        verbose_name=_("授权码"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sso_sign_in",
    )
    access_token = models.OneToOneField(
        "oauth2_provider.AccessToken",
        verbose_name=_("当前访问令牌"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sso_sign_in",
    )

    class Meta:
        verbose_name = _("单点登录记录")
        verbose_name_plural = _("单点登录记录")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(enterprise__isnull=True, capacity="")
                | models.Q(enterprise__isnull=False) & ~models.Q(capacity=""),
                name="identity_sso_enterprise_capacity",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.application_id} @ {self.created_at:%Y-%m-%d %H:%M}"
