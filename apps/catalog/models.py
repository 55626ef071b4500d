"""Service items (政务服务事项), DOMAIN.md §1.4 "Build it like this".

- ``BasicItem`` (基本目录事项): the national basic-catalogue entry, one per 基本编码.
- ``ServiceItem`` (实施清单事项): one implementation by one implementing department. Its own
  element columns are the *working draft* that a department administrator edits.
- ``ItemVersion``: an immutable snapshot of every element, created by each publish. Cases point
  at the version they were applied under, so editing the draft never changes a running case.
  On PostgreSQL a trigger refuses UPDATE and DELETE on versions and their children.
- ``ItemMaterial`` / ``HandlingVariant`` (业务办理项) hang off a version; ``DraftMaterial`` /
  ``DraftVariant`` hang off the item's draft and are copied at publish.

The element columns are declared once in abstract models so the draft and the snapshot cannot
drift apart.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.catalog.constants import (
    ITEM_TRANSITIONS,
    BodyNature,
    CaseKind,
    Channel,
    ExerciseLevel,
    ItemStatus,
    ItemType,
    MaterialForm,
    MaterialRequirement,
    MaterialSource,
    PowerSource,
    ResultType,
    ThemeAudience,
    UniversalScope,
)
from apps.core.models import Department, TimeStampedModel
from apps.identity.constants import AssuranceLevel


class Theme(TimeStampedModel):
    """A life event (个人) or enterprise life stage (法人) used to browse items."""

    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=32)
    audience = models.CharField(_("面向"), max_length=16, choices=ThemeAudience.choices)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("主题")
        verbose_name_plural = _("主题")
        ordering = ["audience", "order"]

    def __str__(self) -> str:
        return self.name


class BasicItem(TimeStampedModel):
    """基本目录事项: the nationally uniform entry that implementations refer to."""

    basic_code = models.CharField(_("基本编码"), max_length=20, unique=True)
    name = models.CharField(_("事项名称"), max_length=200)
    item_type = models.CharField(_("事项类型"), max_length=2, choices=ItemType.choices)
    legal_basis = models.TextField(_("设定依据"), blank=True)

    class Meta:
        verbose_name = _("基本目录事项")
        verbose_name_plural = _("基本目录事项")
        ordering = ["basic_code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.basic_code}）"


class ItemElements(models.Model):
    """Every element of an implementation-list entry (GB/T 39046 表4, DOMAIN.md §1.4)."""

    # Identity and legal basis
    name = models.CharField(_("事项名称"), max_length=200)
    # Shown instead of ``name`` when the interface is in English, and searchable (issue 16 §7).
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    basic_code = models.CharField(_("基本编码"), max_length=20)
    local_basic_code = models.CharField(_("地方基本编码"), max_length=64, blank=True)
    implementation_code = models.CharField(_("实施编码"), max_length=50)
    local_implementation_code = models.CharField(_("地方实施编码"), max_length=64, blank=True)
    item_type = models.CharField(_("事项类型"), max_length=2, choices=ItemType.choices)
    power_source = models.CharField(
        _("权力来源"), max_length=1, choices=PowerSource.choices, default=PowerSource.STATUTORY
    )
    exercise_level = models.CharField(_("行使层级"), max_length=1, choices=ExerciseLevel.choices)
    body_nature = models.CharField(
        _("实施主体性质"), max_length=1, choices=BodyNature.choices, default=BodyNature.STATUTORY
    )
    legal_basis = models.TextField(_("设定依据"), blank=True)
    keywords = models.CharField(
        _("关键词"), max_length=300, blank=True, help_text=_("群众常用说法，空格分隔，用于搜索")
    )

    # Who
    service_objects = models.JSONField(
        _("服务对象"), default=list, blank=True, help_text=_("GB/T 39046 表A.4 代码列表")
    )
    handling_body = models.CharField(_("承办机构"), max_length=128, blank=True)
    entrusting_department = models.CharField(_("委托部门"), max_length=128, blank=True)
    joint_departments = models.CharField(_("联办机构"), max_length=300, blank=True)

    # Time (working days, DOMAIN.md §0.1)
    legal_limit_days = models.PositiveSmallIntegerField(
        _("法定办结时限（工作日）"), null=True, blank=True
    )
    legal_limit_note = models.CharField(_("法定办结时限说明"), max_length=300, blank=True)
    promised_limit_days = models.PositiveSmallIntegerField(_("承诺办结时限（工作日）"), null=True)
    promised_limit_note = models.CharField(_("承诺办结时限说明"), max_length=300, blank=True)
    case_kind = models.CharField(
        _("办件类型"), max_length=16, choices=CaseKind.choices, default=CaseKind.PROMISED
    )

    # Channels and depth
    visits_required = models.PositiveSmallIntegerField(_("到办事现场次数"), default=0)
    visits_reason = models.CharField(_("必须现场办理原因说明"), max_length=300, blank=True)
    handling_forms = models.JSONField(
        _("办理形式"), default=list, blank=True, help_text=_("GB/T 39046 表A.5 代码列表")
    )
    online_depth = models.JSONField(_("网上办理深度"), default=list, blank=True)
    channel = models.CharField(
        _("办理渠道"), max_length=8, choices=Channel.choices, default=Channel.BOTH
    )
    is_in_hall = models.BooleanField(_("是否进驻政务大厅"), default=True)
    supports_appointment = models.BooleanField(_("支持预约办理"), default=False)
    supports_online_payment = models.BooleanField(_("支持网上支付"), default=False)
    supports_express = models.BooleanField(_("支持物流快递"), default=False)
    supports_self_service = models.BooleanField(_("支持自助终端办理"), default=False)
    universal_scope = models.CharField(
        _("通办范围"), max_length=16, choices=UniversalScope.choices, blank=True, default=""
    )
    handling_address = models.CharField(_("办理地点"), max_length=300, blank=True)
    handling_time = models.CharField(_("办理时间"), max_length=300, blank=True)
    consult_phone = models.CharField(_("咨询电话"), max_length=64, blank=True)
    complaint_phone = models.CharField(_("监督投诉电话"), max_length=64, blank=True)

    # Conditions, process, result
    conditions = models.TextField(_("受理条件"), blank=True)
    process_steps = models.JSONField(
        _("办理流程"),
        default=list,
        blank=True,
        help_text=_('[{"name": "受理", "description": ""}]'),
    )
    special_procedures = models.TextField(_("特别程序"), blank=True)
    quantity_limit = models.CharField(_("数量限制"), max_length=300, blank=True)
    intermediary_services = models.TextField(_("中介服务"), blank=True)
    result_name = models.CharField(_("审批结果名称"), max_length=200, blank=True)
    result_type = models.CharField(
        _("结果类型"), max_length=16, choices=ResultType.choices, default=ResultType.OTHER
    )
    result_licence_type = models.CharField(
        _("结果电子证照类型代码"), max_length=32, blank=True, help_text=_("无则留空")
    )

    # Fees
    is_free = models.BooleanField(_("不收费"), default=True)
    fee_items = models.JSONField(
        _("收费项目"),
        default=list,
        blank=True,
        help_text=_('[{"name": "", "standard": "", "basis": "", "reducible": false}]'),
    )

    # Online application
    min_assurance_level = models.PositiveSmallIntegerField(
        _("网上申请最低实名等级"), choices=AssuranceLevel.choices, default=AssuranceLevel.L2
    )
    form_schema = models.JSONField(_("申请表（JSON Schema）"), default=dict, blank=True)
    allows_tolerance = models.BooleanField(_("容缺受理"), default=False)
    faq = models.JSONField(_("常见问题"), default=list, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the interface's language: the English name when the interface is in
        English and the item has one."""
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class ServiceItem(ItemElements, TimeStampedModel):
    """实施清单事项: one department's implementation; its element columns are the draft."""

    basic_item = models.ForeignKey(
        BasicItem,
        verbose_name=_("基本目录事项"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="implementations",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("实施主体"), on_delete=models.PROTECT, related_name="items"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=ItemStatus.choices, default=ItemStatus.DRAFT
    )
    current_version = models.ForeignKey(
        "ItemVersion",
        verbose_name=_("当前发布版本"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    has_unpublished_changes = models.BooleanField(_("有未发布的修改"), default=True)
    status_reason = models.CharField(_("状态说明"), max_length=300, blank=True)
    themes = models.ManyToManyField(Theme, verbose_name=_("主题"), blank=True, related_name="items")
    # Search index of the published version (apps.catalog.search); GIN-indexed on PostgreSQL.
    search_vector = SearchVectorField(null=True, editable=False)
    # The published version's name, for the ranking bonus (the ``name`` column is the draft's).
    published_name = models.CharField(_("发布名称"), max_length=200, blank=True, editable=False)
    serves_person = models.BooleanField(_("面向个人"), default=False, editable=False)
    serves_enterprise = models.BooleanField(_("面向法人"), default=False, editable=False)
    popularity = models.PositiveIntegerField(
        _("热度"), default=0, help_text=_("近期办件量等热度指标，搜索结果相关度相同时靠前")
    )

    class Meta:
        verbose_name = _("实施清单事项")
        verbose_name_plural = _("实施清单事项")
        ordering = ["implementation_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["implementation_code"], name="catalog_item_unique_implementation_code"
            ),
        ]
        # No (department, status) index: the department foreign-key index serves the department
        # lists, and an index that can answer ``status = 'published'`` alone would let a search
        # read every published row through it instead of through the GIN index
        # (tests/catalog/test_search_scale.py).

    def can_transition(self, to: str) -> bool:
        return to in ITEM_TRANSITIONS[ItemStatus(self.status)]

    @property
    def is_published(self) -> bool:
        return self.status == ItemStatus.PUBLISHED and self.current_version_id is not None


class ItemVersion(ItemElements, TimeStampedModel):
    """An immutable snapshot of a published implementation item."""

    item = models.ForeignKey(
        ServiceItem, verbose_name=_("事项"), on_delete=models.PROTECT, related_name="versions"
    )
    version = models.PositiveIntegerField(_("版本号"))
    department = models.ForeignKey(
        Department,
        verbose_name=_("实施主体"),
        on_delete=models.PROTECT,
        related_name="item_versions",
    )
    published_at = models.DateTimeField(_("发布时间"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    published_via = models.CharField(_("发布渠道"), max_length=128, blank=True)
    change_note = models.CharField(_("变更说明"), max_length=300, blank=True)
    # The themes (life events, enterprise stages) as published; the item's ``themes`` are the
    # draft's. Set once at publish.
    themes = models.ManyToManyField(
        Theme, verbose_name=_("主题"), blank=True, related_name="versions"
    )

    class Meta:
        verbose_name = _("事项版本")
        verbose_name_plural = _("事项版本")
        ordering = ["item", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="catalog_version_unique"),
            models.CheckConstraint(
                condition=models.Q(promised_limit_days__lte=models.F("legal_limit_days")),
                name="catalog_version_promised_within_legal",
                violation_error_message=_("承诺办结时限不得超过法定办结时限"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class MaterialElements(models.Model):
    """申请材料 (GB/T 39046 表4 items 56-64, ``up_task_general_material``)."""

    key = models.SlugField(_("材料标识"), max_length=64, help_text=_("事项内稳定不变的英文标识"))
    name = models.CharField(_("材料名称"), max_length=200)
    requirement = models.CharField(
        _("必要性"),
        max_length=16,
        choices=MaterialRequirement.choices,
        default=MaterialRequirement.REQUIRED,
    )
    condition_note = models.CharField(_("提供情形"), max_length=300, blank=True)
    form = models.CharField(
        _("材料形式"), max_length=16, choices=MaterialForm.choices, default=MaterialForm.ORIGINAL
    )
    copies = models.PositiveSmallIntegerField(
        _("份数"), default=1, validators=[MinValueValidator(0), MaxValueValidator(20)]
    )
    source = models.CharField(
        _("来源渠道"),
        max_length=16,
        choices=MaterialSource.choices,
        default=MaterialSource.APPLICANT,
    )
    issuing_body = models.CharField(_("出具机构"), max_length=128, blank=True)
    is_key = models.BooleanField(_("关键材料"), default=False, help_text=_("关键材料不得容缺"))
    licence_types = models.JSONField(
        _("可替代的电子证照类型"), default=list, blank=True, help_text=_("证照类型代码列表")
    )
    shared_sources = models.JSONField(
        _("可替代的共享数据来源"), default=list, blank=True, help_text=_("例如：人口库-户籍信息")
    )
    notes = models.TextField(_("填报须知"), blank=True)
    legal_basis = models.CharField(_("要求提供材料的依据"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def is_waivable(self) -> bool:
        """免提交: replaceable by an e-licence or shared data (DOMAIN.md §0.3, §1.4)."""
        return bool(self.licence_types or self.shared_sources)


class DraftMaterial(MaterialElements, TimeStampedModel):
    item = models.ForeignKey(
        ServiceItem,
        verbose_name=_("事项"),
        on_delete=models.CASCADE,
        related_name="draft_materials",
    )

    class Meta:
        verbose_name = _("申请材料（草稿）")
        verbose_name_plural = _("申请材料（草稿）")
        ordering = ["item", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "key"], name="catalog_draftmaterial_key")
        ]


class ItemMaterial(MaterialElements, TimeStampedModel):
    version = models.ForeignKey(
        ItemVersion, verbose_name=_("事项版本"), on_delete=models.PROTECT, related_name="materials"
    )

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["version", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="catalog_material_key")
        ]


class VariantElements(models.Model):
    """业务办理项: a sub-variant of an implementation (e.g. 首次申领 / 换领 / 补领)."""

    code = models.CharField(_("业务办理项编码"), max_length=60)
    name = models.CharField(_("办理项名称"), max_length=200)
    description = models.TextField(_("适用情形"), blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name


class DraftVariant(VariantElements, TimeStampedModel):
    item = models.ForeignKey(
        ServiceItem, verbose_name=_("事项"), on_delete=models.CASCADE, related_name="draft_variants"
    )

    class Meta:
        verbose_name = _("业务办理项（草稿）")
        verbose_name_plural = _("业务办理项（草稿）")
        ordering = ["item", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "code"], name="catalog_draftvariant_code")
        ]


class HandlingVariant(VariantElements, TimeStampedModel):
    version = models.ForeignKey(
        ItemVersion, verbose_name=_("事项版本"), on_delete=models.PROTECT, related_name="variants"
    )

    class Meta:
        verbose_name = _("业务办理项")
        verbose_name_plural = _("业务办理项")
        ordering = ["version", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="catalog_variant_code")
        ]


ELEMENT_FIELDS: tuple[str, ...] = tuple(f.name for f in ItemElements._meta.local_fields)
MATERIAL_FIELDS: tuple[str, ...] = tuple(f.name for f in MaterialElements._meta.local_fields)
VARIANT_FIELDS: tuple[str, ...] = tuple(f.name for f in VariantElements._meta.local_fields)
