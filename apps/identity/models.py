"""Accounts. Every login is a natural person (自然人); enterprises and staff roles hang off it.

The custom user model exists from the first migration so that the identity work can grow it
without swapping ``AUTH_USER_MODEL`` later.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import Department, ServiceHall, ServiceWindow, TimeStampedModel
from apps.identity.constants import StaffRole


class User(AbstractUser):
    class Meta(AbstractUser.Meta):
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        swappable = "AUTH_USER_MODEL"


class StaffMembership(TimeStampedModel):
    """A civil servant's (公职人员) role in one department, optionally at a hall and window."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("工作人员"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=16, choices=StaffRole.choices)
    hall = models.ForeignKey(
        ServiceHall,
        verbose_name=_("大厅"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
    )
    window = models.ForeignKey(
        ServiceWindow,
        verbose_name=_("窗口"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memberships",
    )
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("工作人员岗位")
        verbose_name_plural = _("工作人员岗位")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department", "role"], name="identity_membership_unique_role"
            )
        ]
        indexes = [models.Index(fields=["department", "role", "is_active"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.department} · {self.get_role_display()}"


class ApiClient(TimeStampedModel):
    """A department system's OAuth2 client (client credentials), bound to one department."""

    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        verbose_name=_("OAuth2 应用"),
        on_delete=models.CASCADE,
        related_name="api_client",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("所属部门"), on_delete=models.PROTECT, related_name="api_clients"
    )
    allowed_scopes = models.CharField(
        _("允许的权限范围"), max_length=500, help_text=_("以空格分隔，例如 cases:read cases:write")
    )
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("部门接口客户端")
        verbose_name_plural = _("部门接口客户端")

    def __str__(self) -> str:
        return f"{self.application.name} → {self.department}"

    @property
    def scopes(self) -> set[str]:
        return set(self.allowed_scopes.split())
