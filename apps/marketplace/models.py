"""网上中介服务超市: the service list, agencies and qualifications, projects, registrations,
bids and the auditable draw (DOMAIN.md §6)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import Department, TimeStampedModel
from apps.identity.models import Enterprise
from apps.marketplace.constants import (
    AgencyServiceStatus,
    AgencyStatus,
    BidMode,
    ContractStatus,
    DrawPurpose,
    DrawStatus,
    EvaluatorKind,
    ObjectionStatus,
    ProjectStatus,
    SanctionKind,
    SelectionMethod,
)


class QualificationGrade(models.IntegerChoices):
    """资质等级: a higher number is a stricter requirement."""

    NONE = 0, _("不分等级")
    GRADE_C = 1, _("丙级")
    GRADE_B = 2, _("乙级")
    GRADE_A = 3, _("甲级")


class IntermediaryService(TimeStampedModel):  # 中介服务事项清单 entry
    """One intermediary service as the 行业主管部门 lists it, with what the law requires.

    ``required_qualifications`` is a list of ``{"code", "name", "min_grade"}``: the legal
    minimum an agency must hold. Projects may restate it, never exceed it (DOMAIN.md §6.2 3).
    """

    code = models.CharField(_("事项编码"), max_length=32, unique=True)
    name = models.CharField(_("中介服务事项名称"), max_length=200)
    department = models.ForeignKey(
        Department,
        verbose_name=_("行业主管部门"),
        on_delete=models.PROTECT,
        related_name="intermediary_services",
    )
    legal_basis = models.TextField(_("设定依据"))
    required_qualifications = models.JSONField(_("法定资质要求"), default=list, blank=True)
    catalogue_items = models.ManyToManyField(
        "catalog.ServiceItem",
        verbose_name=_("需要本中介服务的政务服务事项"),
        blank=True,
        related_name="marketplace_services",
    )
    is_published = models.BooleanField(_("已公布"), default=True)

    class Meta:
        verbose_name = _("中介服务事项")
        verbose_name_plural = _("中介服务事项清单")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def legal_requirements(self) -> dict[str, int]:
        return {q["code"]: int(q.get("min_grade", 0)) for q in self.required_qualifications}


class Agency(TimeStampedModel):  # 中介服务机构
    enterprise = models.OneToOneField(
        Enterprise, verbose_name=_("法人"), on_delete=models.PROTECT, related_name="agency"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=AgencyStatus.choices, default=AgencyStatus.PENDING
    )
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    introduction = models.TextField(_("机构简介"), blank=True)
    commitment_signed_at = models.DateTimeField(_("承诺书签署时间"), null=True, blank=True)
    commitment_version = models.CharField(_("承诺书版本"), max_length=16, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    publicity_ends_at = models.DateTimeField(_("公示截止"), null=True, blank=True)
    listed_at = models.DateTimeField(_("入库时间"), null=True, blank=True)
    credit_score = models.DecimalField(
        _("信用分"), max_digits=6, decimal_places=2, default=Decimal("100.00")
    )

    class Meta:
        verbose_name = _("中介服务机构")
        verbose_name_plural = _("中介服务机构")
        ordering = ["enterprise__uscc"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.enterprise.name

    @property
    def uscc(self) -> str:
        return self.enterprise.uscc

    @property
    def is_listed(self) -> bool:
        return self.status == AgencyStatus.LISTED


class Qualification(TimeStampedModel):  # 资质证书
    agency = models.ForeignKey(
        Agency, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="qualifications"
    )
    code = models.CharField(_("资质类别编码"), max_length=32)
    name = models.CharField(_("资质名称"), max_length=100)
    grade = models.PositiveSmallIntegerField(
        _("资质等级"), choices=QualificationGrade.choices, default=QualificationGrade.NONE
    )
    number = models.CharField(_("证书编号"), max_length=64)
    issuer = models.CharField(_("发证机关"), max_length=100)
    valid_from = models.DateField(_("有效期起"))
    valid_until = models.DateField(_("有效期至"))
    scope = models.CharField(_("业务范围"), max_length=300, blank=True)
    certificate = models.FileField(
        _("证书文件"), upload_to="marketplace/qualifications/", blank=True
    )
    expiry_notice_sent_on = models.DateField(_("到期提醒日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("资质证书")
        verbose_name_plural = _("资质证书")
        ordering = ["code", "-grade"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="marketplace_qualification_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.number}）"

    def is_valid_on(self, day) -> bool:
        return self.valid_from <= day <= self.valid_until


class AgencyService(TimeStampedModel):  # 机构承接的中介服务
    agency = models.ForeignKey(
        Agency, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="services"
    )
    service = models.ForeignKey(
        IntermediaryService,
        verbose_name=_("中介服务事项"),
        on_delete=models.PROTECT,
        related_name="agency_services",
    )
    qualifications = models.ManyToManyField(
        Qualification, verbose_name=_("依据的资质"), related_name="agency_services", blank=True
    )
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=AgencyServiceStatus.choices,
        default=AgencyServiceStatus.ACTIVE,
    )
    status_reason = models.CharField(_("状态说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("机构服务")
        verbose_name_plural = _("机构服务")
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "service"], name="marketplace_agency_service_unique"
            )
        ]


class Project(TimeStampedModel):  # 采购项目 / 采购公告
    number = models.CharField(_("项目编号"), max_length=32, unique=True)
    name = models.CharField(_("项目名称"), max_length=200)
    service = models.ForeignKey(
        IntermediaryService,
        verbose_name=_("中介服务事项"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    scope = models.TextField(_("服务范围"))
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        on_delete=models.PROTECT,
        related_name="marketplace_projects",
    )
    owner_enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("项目业主（法人）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="marketplace_projects",
    )
    owner_name = models.CharField(_("项目业主"), max_length=200)
    contact = models.CharField(_("联系方式"), max_length=100, blank=True)
    qualification_requirements = models.JSONField(_("资质要求"), default=list, blank=True)
    budget = models.DecimalField(_("预算（最高限价）"), max_digits=14, decimal_places=2)
    time_limit_days = models.PositiveIntegerField(_("服务时限（日）"))
    is_fiscal_funded = models.BooleanField(_("使用财政性资金"), default=False)
    method = models.CharField(_("选取方式"), max_length=16, choices=SelectionMethod.choices)
    direct_reason = models.CharField(_("直接选取理由"), max_length=300, blank=True)
    registration_closes_at = models.DateTimeField(_("报名截止时间"))
    selection_at = models.DateTimeField(_("选取时间"))
    big_list_size = models.PositiveSmallIntegerField(_("大名单数量"), default=0)
    small_list_size = models.PositiveSmallIntegerField(_("小名单数量"), default=0)
    bid_rounds = models.PositiveSmallIntegerField(_("竞价轮数"), default=0)
    bid_round_minutes = models.PositiveSmallIntegerField(_("每轮时长（分钟）"), default=0)
    bid_mode = models.CharField(
        _("竞价方式"), max_length=8, choices=BidMode.choices, default=BidMode.SEALED
    )
    rubric = models.JSONField(_("评分细则（权重）"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.SUBMITTED
    )
    review_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    failure_reason = models.CharField(_("失败原因"), max_length=300, blank=True)
    shortlist = models.JSONField(_("小名单"), default=list, blank=True)
    winner = models.ForeignKey(
        Agency,
        verbose_name=_("中选机构"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="won_projects",
    )
    award_price = models.DecimalField(
        _("中选价格"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    award_note = models.CharField(_("中选说明"), max_length=300, blank=True)
    awarded_at = models.DateTimeField(_("中选时间"), null=True, blank=True)
    # 中选公示: objections are heard until then; the contract opens only after it.
    award_publicity_ends_at = models.DateTimeField(_("中选公示截止"), null=True, blank=True)

    class Meta:
        verbose_name = _("采购项目")
        verbose_name_plural = _("采购项目")
        ordering = ["-published_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "registration_closes_at"]),
            models.Index(fields=["status", "selection_at"]),
            # The public announcement list, newest first (bench: 100,000 projects).
            models.Index(fields=["-published_at", "-id"], name="marketplace_project_newest"),
        ]
        permissions = [("operate_marketplace", _("中介超市运营（审核机构与项目）"))]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open_for_registration(self) -> bool:
        return (
            self.status == ProjectStatus.REGISTERING
            and timezone.now() < self.registration_closes_at
        )

    def bid_round_window(self, number: int) -> tuple:
        """(opens, closes) of bidding round ``number`` (1-based): rounds follow the close."""
        length = timezone.timedelta(minutes=self.bid_round_minutes)
        opens = self.selection_at + length * (number - 1)
        return opens, opens + length

    @property
    def bidding_ends_at(self):
        return self.bid_round_window(self.bid_rounds)[1]


class Registration(TimeStampedModel):  # 报名
    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="registrations"
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="registrations"
    )
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT
    )
    quoted_price = models.DecimalField(
        _("报价"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    proposal = models.TextField(_("服务方案"), blank=True)
    scores = models.JSONField(_("评分"), default=dict, blank=True)
    total_score = models.DecimalField(
        _("综合得分"), max_digits=6, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("报名")
        verbose_name_plural = _("报名")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "agency"], name="marketplace_registration_unique"
            )
        ]


class Objection(TimeStampedModel):  # 中选结果异议
    """An objection to an award, raised by another registrant during the 公示 period and
    answered by the operator before ``reply_due_at``; the contract waits until it is handled."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="objections"
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("提出异议的机构"), on_delete=models.PROTECT, related_name="+"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT
    )
    reason = models.TextField(_("异议事由"))
    status = models.CharField(
        _("状态"), max_length=16, choices=ObjectionStatus.choices, default=ObjectionStatus.PENDING
    )
    reply_due_at = models.DateTimeField(_("答复期限"))
    reply = models.TextField(_("处理意见"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(_("逾期提醒时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("中选结果异议")
        verbose_name_plural = _("中选结果异议")
        ordering = ["reply_due_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "agency"],
                condition=Q(status="pending"),
                name="marketplace_one_pending_objection",
            )
        ]
        indexes = [models.Index(fields=["status", "reply_due_at"])]


class Bid(TimeStampedModel):  # 竞价出价
    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="bids"
    )
    agency = models.ForeignKey(Agency, verbose_name=_("机构"), on_delete=models.PROTECT)
    round_number = models.PositiveSmallIntegerField(_("轮次"))
    price = models.DecimalField(_("报价"), max_digits=14, decimal_places=2)
    placed_at = models.DateTimeField(_("出价时间（服务器时间）"))
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("竞价出价")
        verbose_name_plural = _("竞价出价")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "agency", "round_number"], name="marketplace_bid_once_per_round"
            )
        ]


class Draw(TimeStampedModel):  # 摇号 (DOMAIN.md §6.4)
    project = models.OneToOneField(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="draw"
    )
    purpose = models.CharField(_("用途"), max_length=16, choices=DrawPurpose.choices)
    algorithm_version = models.CharField(_("算法版本"), max_length=32)
    # Secret until the draw: only its commitment is public before that.
    server_seed = models.CharField(_("服务器种子"), max_length=64)
    seed_commitment = models.CharField(_("种子承诺值"), max_length=64)
    owner_nonce = models.CharField(_("业主随机数"), max_length=64, blank=True)
    registrants = models.JSONField(_("冻结名单"), default=list, blank=True)
    list_hash = models.CharField(_("名单摘要"), max_length=64, blank=True)
    public_value = models.CharField(_("公共随机值"), max_length=128, blank=True)
    public_value_source = models.CharField(_("公共随机值来源"), max_length=200, blank=True)
    # A value published outside the platform after the close (apps/marketplace/beacon.py).
    external_value = models.CharField(_("外部公共随机值"), max_length=256, blank=True)
    external_source = models.CharField(_("外部公共随机值来源"), max_length=300, blank=True)
    picks = models.PositiveSmallIntegerField(_("抽取数量"), default=1)
    result = models.JSONField(_("抽取结果"), default=list, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=DrawStatus.choices, default=DrawStatus.COMMITTED
    )
    committed_at = models.DateTimeField(_("承诺时间"))
    frozen_at = models.DateTimeField(_("名单冻结时间"), null=True, blank=True)
    drawn_at = models.DateTimeField(_("抽取时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("摇号")
        verbose_name_plural = _("摇号")


class Contract(TimeStampedModel):  # 合同
    project = models.OneToOneField(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="contract"
    )
    agency = models.ForeignKey(Agency, verbose_name=_("中选机构"), on_delete=models.PROTECT)
    amount = models.DecimalField(
        _("合同金额"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    sign_by = models.DateTimeField(_("签订期限"))
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=ContractStatus.choices,
        default=ContractStatus.AWAITING_SIGNATURE,
    )
    document = models.FileField(_("合同文本"), upload_to="marketplace/contracts/", blank=True)
    document_sha256 = models.CharField(_("合同文本摘要"), max_length=64, blank=True)
    document_uploaded_by = models.CharField(_("上传方"), max_length=8, blank=True)
    owner_signed_at = models.DateTimeField(_("业主确认时间"), null=True, blank=True)
    agency_signed_at = models.DateTimeField(_("机构确认时间"), null=True, blank=True)
    owner_completed_at = models.DateTimeField(_("业主确认完成时间"), null=True, blank=True)
    agency_completed_at = models.DateTimeField(_("机构确认完成时间"), null=True, blank=True)
    refusal_reason = models.CharField(_("拒签理由"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("合同")
        verbose_name_plural = _("合同")


class ContractMilestone(TimeStampedModel):  # 履约节点
    """A performance milestone the owner sets; the agency reports it done, the owner confirms.
    Completion of the contract waits until every milestone is confirmed."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.CASCADE, related_name="milestones"
    )
    title = models.CharField(_("节点内容"), max_length=200)
    due_on = models.DateField(_("计划完成日期"))
    reported_at = models.DateTimeField(_("机构报告完成时间"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("业主确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("履约节点")
        verbose_name_plural = _("履约节点")
        ordering = ["due_on", "pk"]


class Evaluation(TimeStampedModel):  # 服务评价
    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.CASCADE, related_name="evaluations"
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="evaluations"
    )
    evaluator_kind = models.CharField(_("评价方"), max_length=16, choices=EvaluatorKind.choices)
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("评价人"), on_delete=models.PROTECT
    )
    score = models.PositiveSmallIntegerField(_("得分（0-100）"))
    comment = models.CharField(_("评价意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("服务评价")
        verbose_name_plural = _("服务评价")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "evaluator_kind"], name="marketplace_one_evaluation_per_side"
            )
        ]


class CreditChange(TimeStampedModel):  # 信用分变动记录
    agency = models.ForeignKey(
        Agency, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="credit_changes"
    )
    previous = models.DecimalField(_("变动前"), max_digits=6, decimal_places=2)
    current = models.DecimalField(_("变动后"), max_digits=6, decimal_places=2)
    reason = models.CharField(_("原因"), max_length=300)
    components = models.JSONField(_("构成"), default=dict)

    class Meta:
        verbose_name = _("信用分变动")
        verbose_name_plural = _("信用分变动")
        ordering = ["-created_at", "-pk"]


class Sanction(TimeStampedModel):  # 惩戒
    agency = models.ForeignKey(
        Agency, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="sanctions"
    )
    kind = models.CharField(_("惩戒类型"), max_length=16, choices=SanctionKind.choices)
    reason = models.CharField(_("事由"), max_length=300)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    project = models.ForeignKey(
        Project, verbose_name=_("相关项目"), on_delete=models.SET_NULL, null=True, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("决定人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    # Lifted when its period ends (beat) or earlier by the operator's or department's decision.
    lifted_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("解除决定人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    lift_reason = models.CharField(_("解除理由"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("惩戒记录")
        verbose_name_plural = _("惩戒记录")
        ordering = ["-starts_on", "-pk"]
