"""Accounts. Every login is a natural person (自然人); enterprises and staff roles hang off it.

The custom user model exists from the first migration so that the identity work can grow it
without swapping ``AUTH_USER_MODEL`` later.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from apps.core.models import (
    Department,
    ServiceHall,
    ServiceWindow,
    TimeStampedModel,
    validate_uscc,
)
from apps.identity.constants import (
    ApiScope,
    AssuranceLevel,
    AssuranceMethod,
    AuthorisationScope,
    EnterpriseRoleKind,
    EnterpriseStatus,
    IdType,
    OidcScope,
    PhoneCodePurpose,
    RegistryStatus,
    RevokeReason,
    StaffRole,
)
from apps.identity.pii import (
    EncryptedTextField,
    id_number_index,
    mask_id_number,
    mask_name,
    mask_phone,
    phone_index,
)


class User(AbstractUser):
    """A login. Always a natural person; the real-name profile is ``user.person``."""

    # Part of the session hash: bumping it ends every session of the account ("退出所有设备").
    session_epoch = models.PositiveIntegerField(_("会话代次"), default=0, editable=False)

    class Meta(AbstractUser.Meta):
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        swappable = "AUTH_USER_MODEL"

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django's hash covers the password only; adding the epoch lets "logout everywhere"
        # invalidate the account's other sessions without touching the password.
        return salted_hmac(
            "apps.identity.models.User.get_session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def _person(self) -> Person | None:
        try:
            return self.person
        except Person.DoesNotExist:
            return None

    @property
    def assurance_level(self) -> int:
        """实名等级 (``AssuranceLevel``); an account without a profile is L1."""
        person = self._person()
        return person.assurance_level if person is not None else AssuranceLevel.L1

    @property
    def display_name(self) -> str:
        """The real name when known (shown to the person themselves and to staff), else the
        account name. Use ``masked_name`` anywhere else."""
        person = self._person()
        if person is not None and person.name:
            return person.name
        return self.get_full_name() or self.get_username()

    @property
    def masked_name(self) -> str:
        person = self._person()
        if person is not None and person.name:
            return mask_name(person.name)
        return self.get_username()


class Person(TimeStampedModel):
    """自然人 real-name profile (GB/T 39046 表12; DOMAIN.md §4.1).

    ID and phone numbers are stored encrypted, with a keyed blind index for exact lookups.
    Use ``set_id_number`` / ``set_phone`` so the index always follows the value.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账号"),
        on_delete=models.CASCADE,
        related_name="person",
    )
    name = models.CharField(_("姓名"), max_length=64, blank=True)
    id_type = models.CharField(
        _("证件类型"), max_length=3, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number = EncryptedTextField(_("身份证件号码（加密）"), null=True, blank=True)
    id_number_index = models.CharField(
        _("证件号码索引"), max_length=64, null=True, blank=True, unique=True, editable=False
    )
    phone = EncryptedTextField(_("移动电话（加密）"), null=True, blank=True)
    phone_index = models.CharField(
        _("手机号索引"), max_length=64, null=True, blank=True, unique=True, editable=False
    )
    assurance_level = models.PositiveSmallIntegerField(
        _("实名等级"), choices=AssuranceLevel.choices, default=AssuranceLevel.L1
    )
    level_raised_at = models.DateTimeField(_("最近提升时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("自然人")
        verbose_name_plural = _("自然人")
        # Per-object (django-guardian): a named staff member may see this person's full ID
        # number, e.g. for an investigation with a legal basis. Granted through
        # services.grant_reveal_permission; every reveal is still audited.
        permissions = [("reveal_id_number", _("可查看完整身份证号码"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(id_number__isnull=True, id_number_index__isnull=True)
                | Q(id_number__isnull=False, id_number_index__isnull=False),
                name="identity_person_id_indexed",
            ),
            models.CheckConstraint(
                condition=Q(phone__isnull=True, phone_index__isnull=True)
                | Q(phone__isnull=False, phone_index__isnull=False),
                name="identity_person_phone_indexed",
            ),
            # L2 and above means name + ID number were matched: both must be on file.
            models.CheckConstraint(
                condition=Q(assurance_level__lt=AssuranceLevel.L2)
                | (Q(id_number_index__isnull=False) & ~Q(name="")),
                name="identity_person_verified_has_id",
            ),
        ]

    def __str__(self) -> str:
        return mask_name(self.name) or str(self.user)

    def set_id_number(self, value: str | None) -> None:
        self.id_number = value or None
        self.id_number_index = id_number_index(value) if value else None

    def set_phone(self, value: str | None) -> None:
        self.phone = value or None
        self.phone_index = phone_index(value) if value else None

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def is_real_name_verified(self) -> bool:
        """是否实名认证 (GB/T 39046): true from L2 on."""
        return self.assurance_level >= AssuranceLevel.L2


class AssuranceRaise(TimeStampedModel):
    """One change of a person's level, with how and by whom (DOMAIN.md §4.2)."""

    person = models.ForeignKey(
        Person, verbose_name=_("自然人"), on_delete=models.CASCADE, related_name="level_raises"
    )
    # 0 = not registered yet (the registration row records how L1 was reached).
    from_level = models.PositiveSmallIntegerField(_("原等级"))
    to_level = models.PositiveSmallIntegerField(_("新等级"), choices=AssuranceLevel.choices)
    method = models.CharField(_("核验方式"), max_length=32, choices=AssuranceMethod.choices)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核验人员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("窗口当面核验时为受理人员，线上核验为空"),
    )

    class Meta:
        verbose_name = _("实名等级变更记录")
        verbose_name_plural = _("实名等级变更记录")
        ordering = ["person", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(to_level__gt=F("from_level")), name="identity_raise_goes_up"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} L{self.from_level}→L{self.to_level}"


# --- shared base registries (人口库 / 法人库) ---------------------------------------------------


class PopulationRecord(TimeStampedModel):
    """人口库 entry: the authority a name + ID number is matched against for L2."""

    name = models.CharField(_("姓名"), max_length=64)
    id_number = EncryptedTextField(_("身份证号码（加密）"))
    id_number_index = models.CharField(_("证件号码索引"), max_length=64, unique=True)
    gender = models.CharField(
        _("性别"), max_length=1, choices=[("1", _("男")), ("2", _("女"))], blank=True
    )
    household_region = models.CharField(_("户籍地区划代码"), max_length=6, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=RegistryStatus.choices, default=RegistryStatus.NORMAL
    )

    class Meta:
        verbose_name = _("人口库记录")
        verbose_name_plural = _("人口库（演示）")

    def __str__(self) -> str:
        return f"{mask_name(self.name)} {mask_id_number(self.id_number)}"

    def set_id_number(self, value: str) -> None:
        self.id_number = value
        self.id_number_index = id_number_index(value)


class LegalPersonRecord(TimeStampedModel):
    """法人库 entry (GB/T 39046 法人; national ``up_uc_corporator_identity``)."""

    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_uscc]
    )
    name = models.CharField(_("法人名称"), max_length=200)
    entity_type = models.CharField(_("法人类型"), max_length=64, blank=True)
    status = models.CharField(
        _("法人状态"),
        max_length=16,
        choices=EnterpriseStatus.choices,
        default=EnterpriseStatus.ACTIVE,
    )
    legal_rep_name = models.CharField(_("法定代表人/负责人"), max_length=64)
    legal_rep_id_number = EncryptedTextField(_("法定代表人证件号码（加密）"))
    legal_rep_id_index = models.CharField(_("法定代表人证件号码索引"), max_length=64)
    registered_on = models.DateField(_("注册日期"), null=True, blank=True)
    address = models.CharField(_("注册地址"), max_length=200, blank=True)
    business_scope = models.TextField(_("经营范围"), blank=True)

    class Meta:
        verbose_name = _("法人库记录")
        verbose_name_plural = _("法人库（演示）")
        indexes = [models.Index(fields=["legal_rep_id_index"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"

    def set_legal_rep_id_number(self, value: str) -> None:
        self.legal_rep_id_number = value
        self.legal_rep_id_index = id_number_index(value)


class WalkInPerson(TimeStampedModel):
    """窗口办事人: a natural person a window clerk identified face to face (resident ID card,
    name and number matched against the population registry) who may have no portal account.

    Cases received at the window point to this row (``Case.walk_in_person``) instead of an
    account. One row per ID number; the clerk records a contact phone for SMS notices. When
    the person later verifies the same ID number on an account (L2, ``verify_real_name``),
    the row is claimed once (``claimed_by``) and the cases become the account's.
    ID and phone numbers are encrypted with blind indexes, like ``Person``.
    """

    name = models.CharField(_("姓名"), max_length=64)
    id_type = models.CharField(
        _("证件类型"), max_length=3, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number = EncryptedTextField(_("身份证件号码（加密）"))
    id_number_index = models.CharField(
        _("证件号码索引"), max_length=64, unique=True, editable=False
    )
    phone = EncryptedTextField(_("联系电话（加密）"), null=True, blank=True)
    phone_index = models.CharField(
        _("联系电话索引"), max_length=64, null=True, blank=True, editable=False
    )
    population_record = models.ForeignKey(
        PopulationRecord,
        verbose_name=_("人口库记录"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    identified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("最近核验人员"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    identified_at = models.DateTimeField(_("最近当面核验时间"), default=timezone.now)
    claimed_by = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("认领账号"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="walk_in_record",
    )
    claimed_at = models.DateTimeField(_("认领时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("窗口办事人")
        verbose_name_plural = _("窗口办事人")
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__isnull=True, phone_index__isnull=True)
                | Q(phone__isnull=False, phone_index__isnull=False),
                name="identity_walkin_phone_indexed",
            ),
            models.CheckConstraint(
                condition=Q(claimed_by__isnull=True, claimed_at__isnull=True)
                | Q(claimed_by__isnull=False, claimed_at__isnull=False),
                name="identity_walkin_claim_dated",
            ),
        ]

    def __str__(self) -> str:
        return f"{mask_name(self.name)} {mask_id_number(self.id_number)}"

    def set_id_number(self, value: str) -> None:
        self.id_number = value
        self.id_number_index = id_number_index(value)

    def set_phone(self, value: str | None) -> None:
        self.phone = value or None
        self.phone_index = phone_index(value) if value else None

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


# --- enterprises and their people (DOMAIN.md §4.3) --------------------------------------------


class Enterprise(TimeStampedModel):
    """法人: an entity that natural persons act for. The USCC is public and shown in full."""

    name = models.CharField(_("法人名称"), max_length=200)
    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_uscc]
    )
    legal_rep_name = models.CharField(_("法定代表人/负责人"), max_length=64)
    legal_representative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("法定代表人账号"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="represented_enterprises",
    )
    status = models.CharField(
        _("法人状态"),
        max_length=16,
        choices=EnterpriseStatus.choices,
        default=EnterpriseStatus.ACTIVE,
    )
    address = models.CharField(_("注册地址"), max_length=200, blank=True)
    registry_record = models.ForeignKey(
        LegalPersonRecord,
        verbose_name=_("法人库记录"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("法人")
        verbose_name_plural = _("法人")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"

    @property
    def is_active(self) -> bool:
        return self.status == EnterpriseStatus.ACTIVE


class EnterpriseRole(TimeStampedModel):
    """A person's standing role in an enterprise besides legal representative (证照管理员)."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("法人"), on_delete=models.CASCADE, related_name="roles"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("人员"),
        on_delete=models.CASCADE,
        related_name="enterprise_roles",
    )
    role = models.CharField(_("角色"), max_length=16, choices=EnterpriseRoleKind.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("设置人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("法人角色")
        verbose_name_plural = _("法人角色")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "user", "role"],
                condition=Q(revoked_at__isnull=True),
                name="identity_enterprise_role_unique_active",
            )
        ]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.enterprise.name} · {self.get_role_display()} · {self.user}"


class AgentAuthorisationQuerySet(models.QuerySet["AgentAuthorisation"]):
    def active(self, at: datetime | None = None) -> AgentAuthorisationQuerySet:
        moment = at or timezone.now()
        return self.filter(revoked_at__isnull=True, valid_from__lte=moment, expires_at__gt=moment)


class AgentAuthorisation(TimeStampedModel):
    """经办人授权: the legal representative or a licence administrator lets a person act for the
    enterprise, for all business or named items, until ``expires_at``; revocable."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("法人"), on_delete=models.CASCADE, related_name="authorisations"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.CASCADE,
        related_name="agent_authorisations",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授权人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    scope = models.CharField(_("授权范围"), max_length=8, choices=AuthorisationScope.choices)
    item_codes = models.JSONField(
        _("授权事项编码"),
        default=list,
        blank=True,
        help_text=_("精准授权时的事项实施编码或基本编码列表"),
    )
    valid_from = models.DateTimeField(_("生效时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("到期时间"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoke_reason = models.CharField(
        _("撤销原因"), max_length=32, choices=RevokeReason.choices, blank=True
    )

    objects = AgentAuthorisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("经办人授权")
        verbose_name_plural = _("经办人授权")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("valid_from")), name="identity_auth_expires_after"
            ),
            models.CheckConstraint(
                condition=Q(scope=AuthorisationScope.ALL, item_codes=[])
                | (Q(scope=AuthorisationScope.ITEMS) & ~Q(item_codes=[])),
                name="identity_auth_scope_items",
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "enterprise", "revoked_at", "expires_at"]),
            models.Index(fields=["enterprise", "revoked_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise.name} → {self.agent}（{self.get_scope_display()}）"

    def is_active_at(self, moment: datetime | None = None) -> bool:
        moment = moment or timezone.now()
        return self.revoked_at is None and self.valid_from <= moment < self.expires_at

    def covers(self, item_codes: Iterable[str]) -> bool:
        """Whether the scope includes any of ``item_codes`` (implementation or basic codes)."""
        if self.scope == AuthorisationScope.ALL:
            return True
        return bool(set(self.item_codes) & set(item_codes))


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

    def clean(self) -> None:
        # Department systems call the API as themselves: client credentials only (docs/sso.md).
        app = getattr(self, "application", None)
        if app is not None and app.authorization_grant_type != "client-credentials":
            raise ValidationError({"application": _("部门接口客户端只能使用客户端凭证模式")})
        unknown = self.scopes - set(ApiScope.values)
        if unknown:
            raise ValidationError(
                {"allowed_scopes": _("未知的权限范围：%s") % " ".join(sorted(unknown))}
            )


class RelyingParty(TimeStampedModel):
    """A department system that signs people in through the portal (OIDC, DOMAIN.md §4.6).

    ``allowed_scopes`` bounds what the client may ask for; ``idcard`` (full ID numbers) is only
    granted with a recorded legal basis, and every release is audited.
    """

    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        verbose_name=_("OAuth2 应用"),
        on_delete=models.CASCADE,
        related_name="relying_party",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("所属部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="relying_parties",
    )
    allowed_scopes = models.CharField(_("允许的权限范围"), max_length=500, default="openid profile")
    id_number_legal_basis = models.CharField(
        _("获取身份证号码的法定依据"),
        max_length=300,
        blank=True,
        help_text=_("授予 idcard 权限时必填：履行哪项法定职责需要完整身份证号码"),
    )
    sector_identifier = models.CharField(
        _("用户标识分组"),
        max_length=200,
        blank=True,
        help_text=_(
            "留空时每个系统获得不同的用户标识（sub）；同一部门的多个系统（如网站与移动端）"
            "填写相同的值即可获得相同的用户标识"
        ),
    )
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("单点登录接入系统")
        verbose_name_plural = _("单点登录接入系统")
        constraints = [
            models.CheckConstraint(
                condition=~Q(allowed_scopes__contains="idcard") | ~Q(id_number_legal_basis=""),
                name="identity_rp_idcard_needs_basis",
            )
        ]

    def __str__(self) -> str:
        return self.application.name

    @property
    def scopes(self) -> set[str]:
        return set(self.allowed_scopes.split())

    @property
    def sector(self) -> str:
        """The pairwise-subject sector (OIDC Core §8.1): by default the client itself."""
        return self.sector_identifier or f"client:{self.application.client_id}"

    def clean(self) -> None:
        app = getattr(self, "application", None)
        if app is not None and (
            app.authorization_grant_type != "authorization-code" or app.algorithm != "RS256"
        ):
            raise ValidationError(
                {"application": _("单点登录接入系统须使用授权码模式，ID Token 签名算法为 RS256")}
            )
        unknown = self.scopes - set(OidcScope.values)
        if unknown:
            raise ValidationError(
                {"allowed_scopes": _("未知的权限范围：%s") % " ".join(sorted(unknown))}
            )
        if OidcScope.OPENID not in self.scopes:
            raise ValidationError({"allowed_scopes": _("必须包含 openid")})
        if OidcScope.IDCARD in self.scopes and not self.id_number_legal_basis.strip():
            raise ValidationError(
                {"id_number_legal_basis": _("授予 idcard 权限时必须填写法定依据")}
            )


class PhoneCode(models.Model):
    """A 6-digit SMS verification code, stored only as a keyed hash (DOMAIN.md §4.2: L1).

    Only the newest code per phone and purpose counts; it expires, allows a few attempts and is
    used once. Sending is rate-limited per phone (``services.send_phone_code``).
    """

    phone_index = models.CharField(_("手机号索引"), max_length=64)
    purpose = models.CharField(_("用途"), max_length=16, choices=PhoneCodePurpose.choices)
    code_hash = models.CharField(_("验证码摘要"), max_length=64)
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("失效时间"))
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [models.Index(fields=["phone_index", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.created_at:%Y-%m-%d %H:%M:%S}"


class ServiceCode(models.Model):
    """一人一码 / 一企一码: a short-lived, single-use code a holder shows at a window.

    Only a keyed hash of the random part is stored (``apps.identity.service_codes``). Issued for
    the holder alone, or for an enterprise they act for (``authorisation`` is the agent
    authorisation in force when the code was issued, if they act as an agent). Redeemed once,
    by a clerk, with a conditional UPDATE (``services.redeem_service_code``).
    """

    token_hash = models.CharField(_("服务码摘要"), max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("持码人"),
        on_delete=models.CASCADE,
        related_name="service_codes",
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("代表的企业"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    authorisation = models.ForeignKey(
        AgentAuthorisation,
        verbose_name=_("经办人授权"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("失效时间"))
    used_at = models.DateTimeField(_("核验时间"), null=True, blank=True)
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核验人员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("服务码")
        verbose_name_plural = _("服务码")
        indexes = [models.Index(fields=["user", "used_at", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="identity_code_expires_after"
            ),
            models.CheckConstraint(
                condition=Q(authorisation__isnull=True) | Q(enterprise__isnull=False),
                name="identity_code_authorisation_needs_enterprise",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M:%S}"


# SSO sign-in records live in their own module; importing them here registers the model.
from apps.identity.oidc_models import SsoSignIn  # noqa: E402, F401
