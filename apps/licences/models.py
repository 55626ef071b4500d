"""证照目录, licences, their status history, verification tokens and use records (DOMAIN.md §3)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.models import AdministrativeLevel, TimeStampedModel
from apps.identity.pii import EncryptedTextField, mask_id_number, mask_name
from apps.licences.constants import (
    TRANSITIONS,
    HolderCodeType,
    HolderKind,
    LicenceStatus,
    ValidityRule,
)
from apps.licences.identifiers import ROOT


class LicenceType(TimeStampedModel):
    """证照目录 entry: every field of GB/T 36902 as DOMAIN.md §3.3 lists them.

    ``face_fields`` is the 照面模板: a list of ``{"key", "label", "type", "required", "mask"}``
    with pinyin-initial keys (DOMAIN.md §3.4); ``face_schema`` turns it into the JSON Schema that
    every licence's face data is validated against.
    """

    code = models.CharField(_("证照类型代码"), max_length=21, unique=True)
    name = models.CharField(_("证照类型名称"), max_length=100)
    definer_code = models.CharField(_("证照定义机构代码"), max_length=18)
    definer_name = models.CharField(_("证照定义机构"), max_length=100)
    holder_kind = models.CharField(_("持证主体类别"), max_length=16, choices=HolderKind.choices)
    holder_code_type = models.CharField(
        _("持证主体代码类型"), max_length=3, choices=HolderCodeType.choices
    )
    validity_rule = models.CharField(_("有效期限规则"), max_length=16, choices=ValidityRule.choices)
    validity_years = models.PositiveSmallIntegerField(_("有效年限"), null=True, blank=True)
    issuing_level = models.PositiveSmallIntegerField(
        _("颁发机构级别"), choices=AdministrativeLevel.choices, null=True, blank=True
    )
    face_fields = models.JSONField(_("照面模板"), default=list, blank=True)
    # 共享范围: "national", or a list of GB/T 2260 region codes / department USCCs in
    # ``sharing_regions`` that may read the licence through the sharing API.
    sharing_scope = models.CharField(
        _("共享范围"),
        max_length=16,
        choices=[("national", _("全国")), ("province", _("本省")), ("listed", _("指定范围"))],
        default="national",
    )
    sharing_regions = models.JSONField(_("指定共享区划"), default=list, blank=True)
    allows_multiple = models.BooleanField(_("同一持证主体可持有多个有效证照"), default=False)
    renewal_item_code = models.CharField(_("延续办理事项编码"), max_length=64, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("证照类型")
        verbose_name_plural = _("证照目录")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(validity_rule=ValidityRule.LONG_TERM, validity_years__isnull=True)
                | Q(validity_rule=ValidityRule.FIXED, validity_years__gte=1),
                name="licences_type_validity_rule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def face_schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required = []
        for field in self.face_fields:
            prop: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 500}
            if field.get("type") == "date":
                prop["format"] = "date"
                prop["pattern"] = r"^\d{4}-\d{2}-\d{2}$"
            if field.get("enum"):
                prop["enum"] = field["enum"]
            properties[field["key"]] = prop
            if field.get("required"):
                required.append(field["key"])
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }


class LicenceQuerySet(models.QuerySet["Licence"]):
    def valid(self) -> LicenceQuerySet:
        return self.filter(status=LicenceStatus.VALID)


class Licence(TimeStampedModel):
    """One version of one electronic licence (证照实例). 变更/延续 make a new row with the version
    raised; the old row turns ``superseded`` and the new one links to it (关联证照标识)."""

    licence_type = models.ForeignKey(
        LicenceType, verbose_name=_("证照类型"), on_delete=models.PROTECT, related_name="licences"
    )
    identifier = models.CharField(_("电子证照标识"), max_length=128, unique=True)
    serial = models.CharField(_("流水号"), max_length=64)
    version = models.PositiveSmallIntegerField(_("版本号"))
    number = models.CharField(_("证照编号"), max_length=64)
    name = models.CharField(_("证照名称"), max_length=100)
    issuer = models.ForeignKey(
        "core.Department",
        verbose_name=_("颁发机构"),
        on_delete=models.PROTECT,
        related_name="issued_licences",
    )
    issuer_code = models.CharField(_("颁发机构代码"), max_length=18)
    jurisdiction_code = models.CharField(_("管辖属地编码"), max_length=12, blank=True)
    holder_kind = models.CharField(_("持证主体类别"), max_length=16, choices=HolderKind.choices)
    holder_code_type = models.CharField(
        _("持证主体代码类型"), max_length=3, choices=HolderCodeType.choices
    )
    holder_name = models.CharField(_("持证主体"), max_length=200)
    # The holder's ID number / credit code is personal data for persons: stored encrypted with a
    # keyed blind index for lookups (apps.identity.pii), for enterprises alike to keep one shape.
    holder_code = EncryptedTextField(_("持证主体代码（加密）"))
    holder_code_index = models.CharField(_("持证主体代码索引"), max_length=64, editable=False)
    holder_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("持证人账号"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="licences",
    )
    holder_enterprise = models.ForeignKey(
        "identity.Enterprise",
        verbose_name=_("持证法人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="licences",
    )
    issued_on = models.DateField(_("颁发日期"))
    valid_from = models.DateField(_("有效期起始日期"))
    valid_until = models.DateField(_("有效期截止日期"), null=True, blank=True)  # None: 长期有效
    face_data = models.JSONField(_("照面信息"), default=dict)
    status = models.CharField(
        _("状态"), max_length=16, choices=LicenceStatus.choices, default=LicenceStatus.VALID
    )
    status_changed_at = models.DateTimeField(_("状态变更时间"))
    # Copied from the type at issue, so the one-valid-per-holder rule is a database constraint.
    exclusive = models.BooleanField(_("唯一有效"), default=True)
    predecessor = models.OneToOneField(
        "self",
        verbose_name=_("关联证照（上一版本）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="successor",
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("来源办件"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issued_licences",
    )

    objects = LicenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        ordering = ["-issued_on", "-pk"]
        constraints = [
            # DOMAIN.md §3.6: one valid licence per (type, holder code type, holder code) unless
            # the type allows several.
            models.UniqueConstraint(
                fields=["licence_type", "holder_code_type", "holder_code_index"],
                condition=Q(status=LicenceStatus.VALID, exclusive=True),
                name="licences_one_valid_per_holder",
            ),
            models.UniqueConstraint(
                fields=["issuer_code", "licence_type", "serial", "version"],
                name="licences_serial_version_unique",
            ),
            models.CheckConstraint(
                condition=Q(holder_user__isnull=True) | Q(holder_enterprise__isnull=True),
                name="licences_one_holder_account",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="licences_validity_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["holder_user", "status"]),
            models.Index(fields=["holder_enterprise", "status"]),
            models.Index(fields=["holder_code_index", "licence_type"]),
            models.Index(fields=["status", "valid_until"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.identifier}"

    def can_take(self, action: str) -> bool:
        sources, _target = TRANSITIONS[action]
        return self.status in sources

    @property
    def is_long_term(self) -> bool:
        return self.valid_until is None

    @property
    def masked_holder_code(self) -> str:
        if self.holder_code_type == HolderCodeType.USCC:
            return self.holder_code  # DOMAIN.md quick reference: USCC is shown in full
        return mask_id_number(self.holder_code)

    @property
    def masked_holder_name(self) -> str:
        if self.holder_kind == HolderKind.PERSON:
            return mask_name(self.holder_name)
        return self.holder_name

    @property
    def oid_root(self) -> str:
        return ROOT


class LicenceStatusChange(TimeStampedModel):
    """Append-only history of a licence's statuses: what, why, on which legal basis, who, when."""

    licence = models.ForeignKey(
        Licence, verbose_name=_("电子证照"), on_delete=models.PROTECT, related_name="history"
    )
    action = models.CharField(_("操作"), max_length=16)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, choices=LicenceStatus.choices)
    reason = models.CharField(_("原因"), max_length=500)
    legal_basis = models.CharField(_("法律依据"), max_length=500, blank=True)
    occurred_at = models.DateTimeField(_("时间"))
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("操作部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("操作方"), max_length=200)
    related = models.ForeignKey(
        Licence,
        verbose_name=_("关联证照"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("证照状态记录")
        verbose_name_plural = _("证照状态记录")
        ordering = ["occurred_at", "pk"]
        indexes = [models.Index(fields=["licence", "occurred_at"])]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Append-only: a history row is written once and never changed (DOMAIN.md §3.7).
        if self.pk is not None:
            raise ValueError("licence status history is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("licence status history is append-only")


class UseAuthorisation(TimeStampedModel):
    """The holder's consent for a department to read their licences (DOMAIN.md §3.6): scoped to
    types or to one licence, with an expiry, revocable in the wallet."""

    holder_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授权人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="licence_authorisations",
    )
    holder_enterprise = models.ForeignKey(
        "identity.Enterprise",
        verbose_name=_("授权法人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="licence_authorisations",
    )
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("被授权部门"),
        on_delete=models.PROTECT,
        related_name="licence_authorisations",
    )
    licence_types = models.JSONField(_("授权证照类型"), default=list, blank=True)
    licence = models.ForeignKey(
        Licence,
        verbose_name=_("授权证照"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="authorisations",
    )
    purpose = models.CharField(_("用途"), max_length=200)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授权操作人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("到期时间"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("用证授权")
        verbose_name_plural = _("用证授权")
        constraints = [
            models.CheckConstraint(
                condition=Q(holder_user__isnull=False, holder_enterprise__isnull=True)
                | Q(holder_user__isnull=True, holder_enterprise__isnull=False),
                name="licences_authorisation_one_holder",
            ),
        ]
        indexes = [models.Index(fields=["department", "expires_at"])]


class LicenceUse(TimeStampedModel):
    """用证记录: every read of a licence by someone other than its holder, refused ones too;
    append-only and shown to the holder (DOMAIN.md §3.6)."""

    licence = models.ForeignKey(
        Licence, verbose_name=_("电子证照"), on_delete=models.PROTECT, related_name="uses"
    )
    # Denormalised so the wallet lists a holder's use log with one indexed query.
    holder_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("持证人账号"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    holder_enterprise = models.ForeignKey(
        "identity.Enterprise",
        verbose_name=_("持证法人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用证人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("用证部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    user_label = models.CharField(_("用证方"), max_length=200)
    purpose = models.CharField(_("申请事由"), max_length=200)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("关联办件"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    basis = models.CharField(_("用证依据"), max_length=32)
    authorisation = models.ForeignKey(
        UseAuthorisation,
        verbose_name=_("所用授权"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="uses",
    )
    is_allowed = models.BooleanField(_("结果"))
    occurred_at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("用证记录")
        verbose_name_plural = _("用证记录")
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["holder_user", "occurred_at"]),
            models.Index(fields=["holder_enterprise", "occurred_at"]),
        ]


class VerificationToken(TimeStampedModel):
    """A short-lived opaque token a QR code carries (DOMAIN.md §3.5): only its SHA-256 is kept,
    and it says nothing about the licence by itself."""

    class Purpose(models.TextChoices):
        VERIFY = "verify", _("验真")
        SHOW = "show", _("亮证")
        FILE = "file", _("证照文件二维码")

    token_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True)
    licence = models.ForeignKey(
        Licence, verbose_name=_("电子证照"), on_delete=models.CASCADE, related_name="tokens"
    )
    purpose = models.CharField(_("用途"), max_length=8, choices=Purpose.choices)
    expires_at = models.DateTimeField(_("到期时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("核验令牌")
        verbose_name_plural = _("核验令牌")
        indexes = [models.Index(fields=["expires_at"])]


class VerificationRecord(TimeStampedModel):
    """One verification answer, logged without the verifier's personal data (no IP, no
    account): which licence, by which channel, what was answered."""

    licence = models.ForeignKey(
        Licence,
        verbose_name=_("电子证照"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="verifications",
    )
    channel = models.CharField(_("方式"), max_length=16)  # token / api / file
    outcome = models.CharField(_("结果"), max_length=16)
    reason = models.CharField(_("原因"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("验真记录")
        verbose_name_plural = _("验真记录")


class SealKey(TimeStampedModel):
    """An issuing department's electronic seal (电子印章, GB/T 38540 ``SES_Seal``) and its signing
    key, for the software seal provider. ``seal`` is the seal maker's signed structure
    (header, esID, property with the certificate list and validity, picture, maker signature);
    ``certificate`` is the signer's certificate the seal lists. The private key is encrypted at
    rest like other secrets (apps.identity.pii); an HSM-backed provider keeps none here."""

    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("用章部门"),
        on_delete=models.PROTECT,
        related_name="seal_keys",
    )
    es_id = models.CharField(_("印章标识"), max_length=64, unique=True)
    public_key = models.CharField(_("签名公钥"), max_length=128)
    private_key = EncryptedTextField(_("签名私钥（加密）"))
    certificate = models.JSONField(_("签章人证书"))
    seal = models.JSONField(_("电子印章数据"))
    valid_from = models.DateField(_("印章有效期起"))
    valid_until = models.DateField(_("印章有效期止"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("电子印章")
        verbose_name_plural = _("电子印章")
        indexes = [models.Index(fields=["department", "valid_until"])]

    def __str__(self) -> str:
        return self.es_id


class LicenceFile(TimeStampedModel):
    """The rendered, sealed file of one licence version (PDF). ``signed_digest`` is the SM3 of
    the bytes the seal signs (the rendering); an uploaded file is found by it."""

    licence = models.OneToOneField(
        Licence, verbose_name=_("电子证照"), on_delete=models.CASCADE, related_name="file"
    )
    kind = models.CharField(_("格式"), max_length=8, default="pdf")
    content = models.BinaryField(_("文件内容"))
    size = models.PositiveIntegerField(_("大小"))
    signed_digest = models.CharField(_("签署内容摘要（SM3）"), max_length=64, unique=True)
    seal_key = models.ForeignKey(
        SealKey, verbose_name=_("电子印章"), on_delete=models.PROTECT, related_name="files"
    )
    signed_at = models.DateTimeField(_("签章时间"))

    class Meta:
        verbose_name = _("证照文件")
        verbose_name_plural = _("证照文件")

    def __str__(self) -> str:
        return f"{self.licence.identifier}.{self.kind}"


class StatusSubscription(TimeStampedModel):
    """A department (or the national sharing platform, a department row with its endpoint) that
    receives the status changes of licences of some types through the handoff outbox
    (DOMAIN.md §3.7 point 4). ``licence_types`` empty: every type."""

    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("订阅部门"),
        on_delete=models.PROTECT,
        related_name="licence_subscriptions",
    )
    licence_types = models.JSONField(_("证照类型代码"), default=list, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("证照状态订阅")
        verbose_name_plural = _("证照状态订阅")
        constraints = [
            models.UniqueConstraint(fields=["department"], name="licences_one_subscription")
        ]

    def __str__(self) -> str:
        return str(self.department)


class AnnotatedCopy(TimeStampedModel):
    """加注件 (DOMAIN.md §3.6): a sealed copy of a licence for one use, watermarked with the
    purpose, the reader and the date, valid until its own date. Found by the SM3 of its signed
    bytes when uploaded for verification."""

    licence = models.ForeignKey(
        Licence, verbose_name=_("电子证照"), on_delete=models.CASCADE, related_name="copies"
    )
    use = models.OneToOneField(
        LicenceUse, verbose_name=_("用证记录"), on_delete=models.PROTECT, related_name="copy"
    )
    purpose = models.CharField(_("用途"), max_length=200)
    valid_until = models.DateField(_("加注件有效期至"))
    signed_digest = models.CharField(_("签署内容摘要（SM3）"), max_length=64, unique=True)
    content = models.BinaryField(_("文件内容"))

    class Meta:
        verbose_name = _("加注件")
        verbose_name_plural = _("加注件")

    def __str__(self) -> str:
        return f"{self.licence.identifier} 加注件 {self.pk}"
