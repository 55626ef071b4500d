"""好差评: what was served, the ratings, the rectification tickets, appeals and the rollups.

Only ``apps.reviews.services`` writes these rows (STYLE.md C3).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel
from apps.core.uploads import case_file_storage
from apps.reviews.constants import (
    TICKET_TRANSITIONS,
    AppealGround,
    AppealStatus,
    ChannelKind,
    FollowUpChannel,
    FollowUpResult,
    Grade,
    ModerationStatus,
    RaterAnswer,
    RatingChannel,
    RatingSource,
    ReviewNode,
    ServiceKind,
    TicketStatus,
)


class ReviewPolicy(TimeStampedModel):
    """Configurable time limits for one region (DOMAIN.md §2.4–2.5 ○ defaults).

    The policy of the nearest region up the tree applies; without any row the settings'
    ``REVIEWS_*`` defaults apply (7 natural days → 基本满意; call back 1, rectify 15, appeal 3
    working days).
    """

    region = models.OneToOneField(
        "core.Region", verbose_name=_("行政区划"), on_delete=models.CASCADE, related_name="+"
    )
    default_after_days = models.PositiveSmallIntegerField(_("默认评价期限（自然日）"), default=7)
    default_grade = models.CharField(
        _("默认评价等级"), max_length=24, choices=Grade.choices, default=Grade.BASICALLY_SATISFIED
    )
    callback_days = models.PositiveSmallIntegerField(_("回访核实时限（工作日）"), default=1)
    rectify_days = models.PositiveSmallIntegerField(_("整改时限（工作日）"), default=15)
    appeal_days = models.PositiveSmallIntegerField(_("申诉期限（工作日）"), default=3)
    feedback_days = models.PositiveSmallIntegerField(_("评价人反馈期限（自然日）"), default=7)
    # Values of ReviewNode: the earlier case nodes applicants may rate (办结 always).
    rateable_nodes = models.JSONField(_("可评价的办理环节"), default=list, blank=True)

    def clean(self) -> None:
        unknown = set(self.rateable_nodes or []) - set(ReviewNode.values)
        if not isinstance(self.rateable_nodes, list) or unknown:
            raise ValidationError({"rateable_nodes": _("可评价的办理环节无效")})

    class Meta:
        verbose_name = _("好差评时限配置")
        verbose_name_plural = _("好差评时限配置")

    def __str__(self) -> str:
        return str(self.region_id)


class ModerationWord(TimeStampedModel):
    """A word that holds a comment for review (the grade is never held)."""

    word = models.CharField(_("敏感词"), max_length=50, unique=True)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("评价审核词")
        verbose_name_plural = _("评价审核词")

    def __str__(self) -> str:
        return self.word


class ServiceAuthority(TimeStampedModel):
    """A department that is the 政务服务管理机构 of its region: its supervisors and
    administrators decide appeals and receive escalations for departments in that region."""

    department = models.OneToOneField(
        "core.Department",
        verbose_name=_("政务服务管理机构"),
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta:
        verbose_name = _("政务服务管理机构")
        verbose_name_plural = _("政务服务管理机构")

    def __str__(self) -> str:
        return str(self.department_id)


class IndicatorSet(TimeStampedModel):
    """A versioned set of rating indicators (测评内容) for one channel kind. Published sets are
    never edited: a change is a new version (DOMAIN.md §2.3: uniform and versioned)."""

    kind = models.CharField(_("渠道类别"), max_length=8, choices=ChannelKind.choices)
    version = models.PositiveSmallIntegerField(_("版本"))
    is_active = models.BooleanField(_("当前使用"), default=False)

    class Meta:
        verbose_name = _("评价指标集")
        verbose_name_plural = _("评价指标集")
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="reviews_indicatorset_kv"),
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(is_active=True),
                name="reviews_indicatorset_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} v{self.version}"


class Indicator(TimeStampedModel):
    """One indicator (e.g. 办事效率) with its options; ``code`` is the national content code."""

    indicator_set = models.ForeignKey(
        IndicatorSet, verbose_name=_("指标集"), on_delete=models.CASCADE, related_name="indicators"
    )
    code = models.CharField(_("指标代码"), max_length=16)
    name = models.CharField(_("指标名称"), max_length=64)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("评价指标")
        verbose_name_plural = _("评价指标")
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["indicator_set", "code"], name="reviews_indicator_code")
        ]

    def __str__(self) -> str:
        return self.name


class IndicatorOption(TimeStampedModel):
    """An option under an indicator. ``is_bad_reason`` options are shown for 差评 grades only,
    the others for the three good grades."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="options"
    )
    code = models.CharField(_("选项代码"), max_length=16, unique=False)
    label = models.CharField(_("选项"), max_length=64)
    is_bad_reason = models.BooleanField(_("差评原因"), default=False)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("指标选项")
        verbose_name_plural = _("指标选项")
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "code"], name="reviews_option_code")
        ]

    def __str__(self) -> str:
        return self.label


class ServiceRecord(TimeStampedModel):
    """One rateable service: a completed case (一事一评) or a window service contact (一次一评).

    Carries the statistical keys of everything rated through it (region, department, item,
    hall, window, staff member) so the rollups never join back to cases.
    """

    kind = models.CharField(_("评价对象类型"), max_length=8, choices=ServiceKind.choices)
    case = models.OneToOneField(
        "cases.Case",
        verbose_name=_("办件"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="review_service",
    )
    # A rated earlier node of a case (ReviewNode; ``case`` stays the completion record's).
    node_case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("办件（办理环节）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="review_node_services",
    )
    node = models.CharField(_("办理环节"), max_length=24, choices=ReviewNode.choices, blank=True)
    department = models.ForeignKey(
        "core.Department", verbose_name=_("办理部门"), on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        "core.Region", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+"
    )
    # The region's code and its ancestors' codes, comma-separated (the region rollup keys).
    region_path = models.CharField(_("行政区划路径"), max_length=120)
    item_code = models.CharField(_("事项编码"), max_length=64, blank=True)
    item_name = models.CharField(_("事项名称"), max_length=200, blank=True)
    hall = models.ForeignKey(
        "core.ServiceHall",
        verbose_name=_("大厅"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    window = models.ForeignKey(
        "core.ServiceWindow",
        verbose_name=_("窗口"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The person served at a window when known (identified by service code or ID card); the
    # pad token alone authorises the rating on the pad.
    served_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("服务对象"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    summary = models.CharField(_("服务内容"), max_length=200, blank=True)
    completed_at = models.DateTimeField(_("服务完成时间"))
    default_due_at = models.DateTimeField(_("默认评价时间"))
    period = models.CharField(_("统计期"), max_length=7, help_text="YYYY-MM")
    # The pad link's single-use nonce (signed into the token); cleared when used.
    pad_nonce = models.CharField(_("评价器令牌"), max_length=32, blank=True)
    is_rated = models.BooleanField(_("已评价"), default=False)

    class Meta:
        verbose_name = _("服务记录")
        verbose_name_plural = _("服务记录")
        indexes = [
            models.Index(fields=["is_rated", "default_due_at"], name="reviews_svc_default_due"),
            models.Index(fields=["department", "completed_at"], name="reviews_svc_dept"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["node_case", "node"],
                condition=models.Q(node_case__isnull=False),
                name="reviews_svc_node_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Rating(TimeStampedModel):
    """评价: one per service (``sequence`` 1) plus one follow-up (二次评价, ``sequence`` 2).

    The rater (real name) is kept for the loop and the audit but never shown outside the
    ticket's department view and never published or exported. ``comment`` is stored already
    masked (typed ID and phone numbers).
    """

    service = models.ForeignKey(
        ServiceRecord, verbose_name=_("服务"), on_delete=models.PROTECT, related_name="ratings"
    )
    sequence = models.PositiveSmallIntegerField(_("评价次数"), default=1)
    grade = models.CharField(_("满意度"), max_length=24, choices=Grade.choices)
    channel = models.CharField(_("评价渠道"), max_length=16, choices=RatingChannel.choices)
    source = models.CharField(
        _("评价来源"), max_length=16, choices=RatingSource.choices, default=RatingSource.RATER
    )
    indicator_set = models.ForeignKey(
        IndicatorSet,
        verbose_name=_("指标集版本"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    options = models.JSONField(_("指标选项"), default=list, blank=True)
    comment = models.TextField(_("文字评价"), blank=True)
    moderation = models.CharField(
        _("审核状态"),
        max_length=12,
        choices=ModerationStatus.choices,
        default=ModerationStatus.NOT_NEEDED,
    )
    is_anonymous = models.BooleanField(_("匿名展示"), default=True)
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评价人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The follow-up supersedes the first rating in the statistics.
    is_current = models.BooleanField(_("计入统计的评价"), default=True)
    # An upheld appeal takes the rating out of the statistics (the row and audit stay).
    is_excluded = models.BooleanField(_("申诉成立已剔除"), default=False)

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        constraints = [
            models.UniqueConstraint(fields=["service", "sequence"], name="reviews_rating_once"),
            models.CheckConstraint(
                condition=models.Q(sequence__in=[1, 2]), name="reviews_rating_sequence"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id}/{self.sequence} {self.grade}"


class RectificationTicket(TimeStampedModel):
    """差评工单: opened for every 差评, assigned to who handled the service (谁办理、谁负责)."""

    rating = models.OneToOneField(
        Rating, verbose_name=_("评价"), on_delete=models.PROTECT, related_name="ticket"
    )
    department = models.ForeignKey(
        "core.Department", verbose_name=_("责任部门"), on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    callback_due = models.DateTimeField(_("回访核实期限"))
    rectify_due = models.DateTimeField(_("整改期限"))
    appeal_due = models.DateTimeField(_("申诉期限"))
    first_follow_up_at = models.DateTimeField(_("首次回访时间"), null=True, blank=True)
    finding = models.TextField(_("核实情况"), blank=True)
    measures = models.TextField(_("整改措施"), blank=True)
    result = models.TextField(_("整改结果"), blank=True)
    rectified_at = models.DateTimeField(_("整改完成时间"), null=True, blank=True)
    rater_answer = models.CharField(
        _("评价人反馈"), max_length=16, choices=RaterAnswer.choices, blank=True
    )
    rater_answer_text = models.TextField(_("评价人反馈意见"), blank=True)
    answered_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # Closed by the beat task because the rater did not answer within the feedback window.
    closed_without_answer = models.BooleanField(_("逾期未反馈自动办结"), default=False)
    appealed_from = models.CharField(_("申诉前状态"), max_length=20, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("督办级别"), default=0)
    escalated_at = models.DateTimeField(_("督办时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("差评整改工单")
        verbose_name_plural = _("差评整改工单")
        indexes = [
            models.Index(fields=["department", "status"], name="reviews_ticket_dept_status"),
            models.Index(fields=["status", "rectify_due"], name="reviews_ticket_due"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.status}"

    def can_transition(self, to: str) -> bool:
        return to in TICKET_TRANSITIONS[self.status]

    @property
    def is_rectified_on_time(self) -> bool:
        return self.rectified_at is not None and self.rectified_at <= self.rectify_due


class FollowUp(TimeStampedModel):
    """回访 record: channel, time, result, recording link."""

    ticket = models.ForeignKey(
        RectificationTicket,
        verbose_name=_("工单"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    channel = models.CharField(_("回访方式"), max_length=8, choices=FollowUpChannel.choices)
    contacted_at = models.DateTimeField(_("回访时间"))
    result = models.CharField(_("回访结果"), max_length=16, choices=FollowUpResult.choices)
    note = models.TextField(_("回访记录"), blank=True)
    recording_url = models.URLField(_("录音链接"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")
        ordering = ["contacted_at", "pk"]


class Appeal(TimeStampedModel):
    """申诉 by the responsible department, decided by the 政务服务管理机构 only."""

    ticket = models.ForeignKey(
        RectificationTicket,
        verbose_name=_("工单"),
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    ground = models.CharField(_("申诉理由"), max_length=12, choices=AppealGround.choices)
    statement = models.TextField(_("申诉说明"))
    # What the evidence shows, in words; files are AppealEvidence rows (one of both is needed).
    evidence = models.TextField(_("证据材料"), blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=AppealStatus.choices, default=AppealStatus.PENDING
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申诉人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("复核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    decision_note = models.TextField(_("复核意见"), blank=True)

    class Meta:
        verbose_name = _("申诉")
        verbose_name_plural = _("申诉")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=models.Q(status="pending"),
                name="reviews_one_pending_appeal",
            )
        ]


def _evidence_path(instance: AppealEvidence, filename: str) -> str:
    return filename  # services pass a random stored name (apps.core.uploads.stored_name)


class AppealEvidence(TimeStampedModel):
    """An evidence file of an appeal (申诉证据). Stored privately with the case files, under a
    random name, type sniffed and size bounded like case materials; it leaves only through the
    access-checked office view (the department and the 政务服务管理机构, never the rater)."""

    appeal = models.ForeignKey(
        Appeal, verbose_name=_("申诉"), on_delete=models.PROTECT, related_name="evidence_files"
    )
    file = models.FileField(
        _("文件"), storage=case_file_storage, upload_to=_evidence_path, max_length=200
    )
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    content_type = models.CharField(_("文件类型"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("申诉证据")
        verbose_name_plural = _("申诉证据")

    def __str__(self) -> str:
        return f"{self.appeal_id}: {self.original_name}"


class ReviewRollup(TimeStampedModel):
    """Running counters per (dimension, key, month), kept in the writing transaction
    (``apps.reviews.rollups``). Pages read these rows, never the ratings."""

    dimension = models.CharField(_("维度"), max_length=12)
    key = models.CharField(_("维度值"), max_length=64)
    period = models.CharField(_("统计期"), max_length=7)
    services = models.IntegerField(_("办件与服务数"), default=0)
    ratings = models.IntegerField(_("主动评价数"), default=0)
    defaults = models.IntegerField(_("系统默认评价数"), default=0)
    grade_1 = models.IntegerField(_("非常满意"), default=0)
    grade_2 = models.IntegerField(_("满意"), default=0)
    grade_3 = models.IntegerField(_("基本满意"), default=0)
    grade_4 = models.IntegerField(_("不满意"), default=0)
    grade_5 = models.IntegerField(_("非常不满意"), default=0)
    score_sum = models.IntegerField(_("评分合计"), default=0)
    tickets = models.IntegerField(_("差评工单数"), default=0)
    followed_up = models.IntegerField(_("已回访"), default=0)
    rectified = models.IntegerField(_("已整改"), default=0)
    rectified_on_time = models.IntegerField(_("按期整改"), default=0)
    appeals_decided = models.IntegerField(_("已复核申诉"), default=0)
    appeals_upheld = models.IntegerField(_("申诉成立"), default=0)

    COUNTERS = (
        "services",
        "ratings",
        "defaults",
        "grade_1",
        "grade_2",
        "grade_3",
        "grade_4",
        "grade_5",
        "score_sum",
        "tickets",
        "followed_up",
        "rectified",
        "rectified_on_time",
        "appeals_decided",
        "appeals_upheld",
    )

    class Meta:
        verbose_name = _("好差评统计")
        verbose_name_plural = _("好差评统计")
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "key", "period"], name="reviews_rollup_key"
            )
        ]
        indexes = [models.Index(fields=["dimension", "period"], name="reviews_rollup_period")]
