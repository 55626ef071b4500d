"""一件事一次办 (DOMAIN.md §5.3 "Build it like this").

- ``Bundle``: the stable identity of a 一件事 (its code and the version now published).
- ``BundleVersion``: one version of the definition, ``draft → published → retired``. A
  published or retired version and everything hanging off it never changes (the rows refuse
  saves and deletes); applications point at the version they were made under, and each
  component pins the catalogue ``ItemVersion`` it was published with.
- Hanging off a version: ``BundleComponent`` (a catalogue item implementation and the condition
  under which it applies), ``BundleEdge`` (upstream must be decided before downstream starts),
  ``BundleQuestion`` (情形引导), ``BundleField`` + ``BundleFieldTarget`` (一表申请: one field
  filling component fields), ``BundleMaterial`` + ``BundleMaterialTarget`` (一套材料),
  ``BundleOutput`` (a decided component's licence number or result field filling a later
  component's form field or material).
- ``BundleApplication`` → ``BundleChild`` (one per applicable component) → the child ``Case``.

Components, edges and mappings refer to components by ``key`` (not by foreign key) so a version
copies as plain data and a dangling reference is something publishing can name and refuse.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.bundles.constants import (
    ApplicationStatus,
    Audience,
    ChildState,
    DeliveryMethod,
    OutputSource,
    OutputTarget,
    QuestionKind,
    VersionStatus,
)
from apps.core.exceptions import DomainError
from apps.core.models import Department, TimeStampedModel
from apps.core.uploads import case_file_storage
from apps.identity.pii import EncryptedTextField

KEY_HELP = _("版本内稳定不变的英文标识（小写字母、数字、下划线）")


class Bundle(TimeStampedModel):
    """一件事: the code stays, versions come and go."""

    code = models.SlugField(_("编码"), max_length=64, unique=True)
    current_version = models.ForeignKey(
        "BundleVersion",
        verbose_name=_("当前发布版本"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class BundleVersion(TimeStampedModel):
    bundle = models.ForeignKey(
        Bundle, verbose_name=_("一件事"), on_delete=models.PROTECT, related_name="versions"
    )
    version = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    name = models.CharField(_("名称"), max_length=100)
    summary = models.TextField(_("简介"), blank=True)
    audience = models.CharField(
        _("面向"), max_length=16, choices=Audience.choices, default=Audience.PERSON
    )
    theme = models.ForeignKey(
        "catalog.Theme",
        verbose_name=_("主题"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bundle_versions",
    )
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("牵头部门"),
        on_delete=models.PROTECT,
        related_name="led_bundle_versions",
    )
    partner_departments = models.ManyToManyField(
        Department, verbose_name=_("配合部门"), blank=True, related_name="partner_bundle_versions"
    )
    promised_limit_days = models.PositiveSmallIntegerField(_("承诺办结时限（工作日）"))
    batch = models.CharField(
        _("所属清单批次"), max_length=100, blank=True, help_text=_("例如：国家2024年第一批")
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    change_note = models.CharField(_("变更说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("一件事版本")
        verbose_name_plural = _("一件事版本")
        ordering = ["bundle", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["bundle", "version"], name="bundles_version_unique"),
            models.UniqueConstraint(
                fields=["bundle"],
                condition=models.Q(status="draft"),
                name="bundles_one_draft_per_bundle",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT


class VersionPart(TimeStampedModel):
    """A row of a version's content: editable only while the version is a draft."""

    version = models.ForeignKey(BundleVersion, verbose_name=_("版本"), on_delete=models.CASCADE)

    class Meta:
        abstract = True

    def _check_editable(self) -> None:
        status = (
            BundleVersion.objects.filter(pk=self.version_id)
            .values_list("status", flat=True)
            .first()
        )
        if status is not None and status != VersionStatus.DRAFT:
            raise DomainError(_("已发布的一件事版本不能修改，请新建草稿版本"), code="immutable")

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._check_editable()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._check_editable()
        return super().delete(*args, **kwargs)


class BundleComponent(VersionPart):
    """A component item (子事项) of the bundle: a catalogue item implementation."""

    key = models.SlugField(_("标识"), max_length=40, help_text=KEY_HELP)
    item = models.ForeignKey(
        "catalog.ServiceItem",
        verbose_name=_("实施清单事项"),
        on_delete=models.PROTECT,
        related_name="bundle_components",
    )
    # Set at publish to the item's current version: applications use exactly this version.
    item_version = models.ForeignKey(
        "catalog.ItemVersion",
        verbose_name=_("事项版本"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bundle_components",
    )
    condition = models.CharField(
        _("适用条件"),
        max_length=500,
        blank=True,
        help_text=_('情形引导条件，留空表示总是办理。例如：needs_ssc and relation == "parent"'),
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("子事项")
        verbose_name_plural = _("子事项")
        ordering = ["version", "order", "pk"]
        default_related_name = "components"
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="bundles_component_key")
        ]

    def __str__(self) -> str:
        return f"{self.key}：{self.item.name}" if self.item_id else self.key


class BundleEdge(VersionPart):
    """``upstream`` must be decided (准予) before ``downstream`` is submitted."""

    upstream = models.CharField(_("前置子事项标识"), max_length=40)
    downstream = models.CharField(_("后续子事项标识"), max_length=40)

    class Meta:
        verbose_name = _("前后置关系")
        verbose_name_plural = _("前后置关系")
        ordering = ["version", "upstream", "downstream"]
        default_related_name = "edges"
        constraints = [
            models.UniqueConstraint(
                fields=["version", "upstream", "downstream"], name="bundles_edge_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.upstream} → {self.downstream}"


class BundleQuestion(VersionPart):
    """情形引导: a question whose answer decides which components apply."""

    key = models.SlugField(_("标识"), max_length=40, help_text=KEY_HELP)
    text = models.CharField(_("问题"), max_length=200)
    help_text = models.CharField(_("说明"), max_length=300, blank=True)
    kind = models.CharField(
        _("类型"), max_length=16, choices=QuestionKind.choices, default=QuestionKind.YES_NO
    )
    choices = models.JSONField(
        _("选项"), default=list, blank=True, help_text=_('单选题：[{"value": "a", "label": "…"}]')
    )
    condition = models.CharField(
        _("提问条件"), max_length=500, blank=True, help_text=_("留空表示总是提问")
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("引导问题")
        verbose_name_plural = _("引导问题")
        ordering = ["version", "order", "pk"]
        default_related_name = "questions"
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="bundles_question_key")
        ]

    def __str__(self) -> str:
        return self.text


class BundleField(VersionPart):
    """一表申请: one field of the merged form, asked once, filling component form fields."""

    key = models.SlugField(_("标识"), max_length=40, help_text=KEY_HELP)
    spec = models.JSONField(
        _("字段定义"),
        default=dict,
        help_text=_('与事项申请表相同的 JSON Schema 属性，例如 {"type": "string", "title": "…"}'),
    )
    required = models.BooleanField(_("必填"), default=True)
    prefill = models.CharField(
        _("预填来源"),
        max_length=32,
        blank=True,
        help_text=_("从用户资料预填：name、mobile（留空不预填）"),
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("合并申请表字段")
        verbose_name_plural = _("合并申请表字段")
        ordering = ["version", "order", "pk"]
        default_related_name = "fields"
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="bundles_field_key")]

    def __str__(self) -> str:
        return str(self.spec.get("title") or self.key)


class BundleFieldTarget(TimeStampedModel):
    field = models.ForeignKey(
        BundleField, verbose_name=_("合并字段"), on_delete=models.CASCADE, related_name="targets"
    )
    component = models.CharField(_("子事项标识"), max_length=40)
    target_field = models.CharField(_("子事项申请表字段"), max_length=64)

    class Meta:
        verbose_name = _("字段映射")
        verbose_name_plural = _("字段映射")
        ordering = ["field", "component"]
        constraints = [
            models.UniqueConstraint(
                fields=["field", "component", "target_field"], name="bundles_field_target_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.component}.{self.target_field}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.field._check_editable()
        super().save(*args, **kwargs)


class BundleMaterial(VersionPart):
    """一套材料: a material uploaded once and routed to each component slot that needs it."""

    key = models.SlugField(_("标识"), max_length=64, help_text=KEY_HELP)
    name = models.CharField(_("材料名称"), max_length=200)
    notes = models.CharField(_("说明"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("共享材料")
        verbose_name_plural = _("共享材料")
        ordering = ["version", "order", "pk"]
        default_related_name = "materials"
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="bundles_material_key")
        ]

    def __str__(self) -> str:
        return self.name


class BundleMaterialTarget(TimeStampedModel):
    material = models.ForeignKey(
        BundleMaterial, verbose_name=_("共享材料"), on_delete=models.CASCADE, related_name="targets"
    )
    component = models.CharField(_("子事项标识"), max_length=40)
    slot_key = models.CharField(_("子事项材料标识"), max_length=64)

    class Meta:
        verbose_name = _("材料分发")
        verbose_name_plural = _("材料分发")
        ordering = ["material", "component"]
        constraints = [
            models.UniqueConstraint(
                fields=["material", "component", "slot_key"], name="bundles_material_target_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.component}.{self.slot_key}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.material._check_editable()
        super().save(*args, **kwargs)


class BundleOutput(VersionPart):
    """A decided component's result filling a later component's form field or material."""

    source_component = models.CharField(_("来源子事项"), max_length=40)
    source_kind = models.CharField(
        _("来源"), max_length=16, choices=OutputSource.choices, default=OutputSource.LICENCE
    )
    source_field = models.CharField(
        _("办理结果字段"), max_length=64, blank=True, help_text=_("来源为办理结果字段时填写")
    )
    target_component = models.CharField(_("目标子事项"), max_length=40)
    target_kind = models.CharField(
        _("目标"), max_length=16, choices=OutputTarget.choices, default=OutputTarget.FORM_FIELD
    )
    target_name = models.CharField(_("目标字段或材料标识"), max_length=64)

    class Meta:
        verbose_name = _("结果传递")
        verbose_name_plural = _("结果传递")
        ordering = ["version", "pk"]
        default_related_name = "outputs"

    def __str__(self) -> str:
        return f"{self.source_component} → {self.target_component}.{self.target_name}"


# --- applications -------------------------------------------------------------------------


class BundleApplication(TimeStampedModel):
    """One citizen's (or enterprise's) application for a bundle, pinned to its version."""

    bundle = models.ForeignKey(
        Bundle, verbose_name=_("一件事"), on_delete=models.PROTECT, related_name="applications"
    )
    version = models.ForeignKey(
        BundleVersion,
        verbose_name=_("一件事版本"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人账号"),
        on_delete=models.PROTECT,
        related_name="bundle_applications",
    )
    enterprise = models.ForeignKey(
        "identity.Enterprise",
        verbose_name=_("申请单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bundle_applications",
    )
    applicant_name = models.CharField(_("申请人名称"), max_length=200)
    answers = models.JSONField(_("情形引导答案"), default=dict, blank=True)
    # The merged form holds identity and phone numbers: kept encrypted whole (it is only read
    # to fill the child forms and to show the applicant what they typed).
    form_encrypted = EncryptedTextField(_("合并申请表（加密）"), blank=True, default="")
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.IN_PROGRESS,
    )
    status_note = models.TextField(_("状态说明"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"))
    deadline = models.DateTimeField(_("承诺办结日期"))
    concluded_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    # 一窗受理: the comprehensive-window clerk who accepted the bundle once; children started
    # later are accepted in the same clerk's name for their own departments.
    accepted_at = models.DateTimeField(_("综合窗口受理时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("综合窗口受理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # 统一出件: the applicant's choice, and when the window handed over all results at once.
    delivery_method = models.CharField(
        _("出件方式"),
        max_length=10,
        choices=DeliveryMethod.choices,
        default=DeliveryMethod.WINDOW,
    )
    delivery_address = models.CharField(_("邮寄地址"), max_length=200, blank=True)
    results_delivered_at = models.DateTimeField(_("统一出件时间"), null=True, blank=True)
    results_delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("统一出件经办人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # When the orchestration last looked at every child (services.advance_bundle_application);
    # the sweeper re-enqueues applications with work newer than this.
    advanced_at = models.DateTimeField(_("最近编排时间"), null=True, blank=True)
    # When the sweeper last re-enqueued the orchestration: it does not send it again before
    # BUNDLE_SWEEP_STALE_SECONDS have passed, so a worker that falls behind does not get the
    # same application once per sweep (services.sweep_bundle_applications).
    requeued_at = models.DateTimeField(_("最近补发编排时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("一件事申请")
        verbose_name_plural = _("一件事申请")
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["applicant_user", "-submitted_at"], name="bundles_app_user_idx"),
            models.Index(fields=["status"], name="bundles_app_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.version.name}（{self.applicant_name}）"

    @property
    def form(self) -> dict[str, Any]:
        return json.loads(self.form_encrypted) if self.form_encrypted else {}

    @form.setter
    def form(self, data: dict[str, Any]) -> None:
        self.form_encrypted = json.dumps(data, ensure_ascii=False, sort_keys=True)


class BundleUpload(TimeStampedModel):
    """A shared material as uploaded once; copied into each child case that needs it."""

    application = models.ForeignKey(
        BundleApplication,
        verbose_name=_("一件事申请"),
        on_delete=models.CASCADE,
        related_name="uploads",
    )
    material_key = models.CharField(_("共享材料标识"), max_length=64)
    file = models.FileField(_("文件"), storage=case_file_storage, upload_to="bundles/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("共享材料文件")
        verbose_name_plural = _("共享材料文件")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "material_key"], name="bundles_upload_unique"
            )
        ]


class BundleChild(TimeStampedModel):
    """One applicable component of an application and the case created for it."""

    application = models.ForeignKey(
        BundleApplication,
        verbose_name=_("一件事申请"),
        on_delete=models.CASCADE,
        related_name="children",
    )
    component = models.ForeignKey(
        BundleComponent, verbose_name=_("子事项"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=ChildState.choices, default=ChildState.WAITING
    )
    case = models.OneToOneField(
        "cases.Case",
        verbose_name=_("办件"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bundle_child",
    )
    # Orchestration bookkeeping (services.start_child): who holds the row and until when.
    claim_token = models.UUIDField(_("认领标记"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("首次认领时间"), null=True, blank=True)
    lease_until = models.DateTimeField(_("认领到期"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    inputs = models.JSONField(_("传入的前置结果"), default=dict, blank=True)
    started_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decision = models.CharField(_("决定"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("子办件")
        verbose_name_plural = _("子办件")
        ordering = ["application", "component__order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "component"], name="bundles_child_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["state", "lease_until"],
                name="bundles_child_open_idx",
                condition=models.Q(state__in=["waiting", "starting"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id}/{self.component.key}"
