"""Cases (办件): the case, its timeline, materials, supplement notices and SLA clock rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.cases.constants import (
    CLOCK_STATES,
    OFFICE_QUEUE_STATES,
    TERMINAL_STATES,
    Actor,
    ApplicantKind,
    CaseAction,
    CaseKind,
    CaseStatus,
    Channel,
    DayUnit,
    Decision,
    MaterialSource,
    MaterialStatus,
    PauseKind,
    SlaLevel,
    is_allowed,
)
from apps.core.models import TimeStampedModel
from apps.core.uploads import case_file_storage
from apps.identity.pii import EncryptedTextField


class CaseNumberCounter(TimeStampedModel):
    """The daily sequence behind 办件编号 (DOMAIN.md §1.3): one row per (实施编码, day).

    Allocation is one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (``apps.cases.numbering``):
    the row lock serialises concurrent submissions of the same item on the same day only.
    """

    code = models.CharField(_("实施编码"), max_length=50)
    day = models.DateField(_("日期"))
    last = models.PositiveIntegerField(_("已用序号"), default=0)

    class Meta:
        verbose_name = _("办件编号计数器")
        verbose_name_plural = _("办件编号计数器")
        constraints = [
            models.UniqueConstraint(fields=["code", "day"], name="cases_counter_code_day")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.day:%Y%m%d} #{self.last}"


class Case(TimeStampedModel):
    """办件: one application for one item version, from draft to delivery (DOMAIN.md §1.6).

    ``status`` changes only through ``apps.cases.services`` (one function per ``CaseAction``);
    every change writes a ``CaseEvent`` and an audit event in the same transaction.
    """

    number = models.CharField(_("办件编号"), max_length=50, unique=True, null=True, blank=True)
    item_version = models.ForeignKey(
        "catalog.ItemVersion",
        verbose_name=_("事项版本"),
        on_delete=models.PROTECT,
        related_name="cases",
        help_text=_("申请时适用的事项版本，之后发布的新版本不影响本件"),
    )
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("实施主体"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    hall = models.ForeignKey(
        "core.ServiceHall",
        verbose_name=_("受理大厅"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    status = models.CharField(
        _("状态"), max_length=24, choices=CaseStatus.choices, default=CaseStatus.DRAFT
    )
    channel = models.CharField(_("申报来源"), max_length=16, choices=Channel.choices)
    kind = models.CharField(_("办件类型"), max_length=16, choices=CaseKind.choices)
    # The applicant is a person (applicant_user) or an enterprise; the acting person is who
    # filled in and submitted (the citizen, an enterprise's agent, or the person at the window).
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人（自然人）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applied_cases",
    )
    enterprise = models.ForeignKey(
        "identity.Enterprise",
        verbose_name=_("申请人（法人）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    # Empty for a walk-in without an account until they claim the case (walk_in_person).
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acted_cases",
    )
    # 一窗受理 without an account: the person the clerk identified face to face (the person
    # applicant, or the enterprise's agent). Kept after they claim the case on an account.
    walk_in_person = models.ForeignKey(
        "identity.WalkInPerson",
        verbose_name=_("窗口办事人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    applicant_kind = models.CharField(
        _("申请人类别"),
        max_length=16,
        choices=ApplicantKind.choices,
        default=ApplicantKind.PERSON,
        db_default=ApplicantKind.PERSON,
    )
    authorisation = models.ForeignKey(
        "identity.AgentAuthorisation",
        verbose_name=_("所用授权"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    applicant_name = models.CharField(_("申请人名称"), max_length=200)
    # The form without its personal fields (x-format id-number / mobile), which are kept
    # encrypted in ``form_personal`` (apps.cases.personal): never read either directly.
    form_data = models.JSONField(_("申请表"), default=dict, blank=True)
    form_personal = EncryptedTextField(
        _("申请表个人信息（加密）"), blank=True, default="", db_default=""
    )

    received_at = models.DateTimeField(_("收件时间"), null=True, blank=True)
    supplement_notice_due = models.DateTimeField(
        _("补正告知截止"), null=True, blank=True, help_text=_("行政许可法第三十二条：收件后五日内")
    )
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    deemed_accepted = models.BooleanField(_("逾期未告知视为受理"), default=False)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("受理人员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # SLA clock (apps.cases.sla): limit snapshot at acceptance, extensions, closed pauses.
    promised_days = models.PositiveSmallIntegerField(_("承诺时限（工作日）"), null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField(_("延长（工作日）"), default=0)
    paused_days = models.PositiveSmallIntegerField(_("已暂停（工作日）"), default=0)
    paused_since = models.DateTimeField(_("暂停计时自"), null=True, blank=True)
    deadline = models.DateTimeField(_("承诺办结日期"), null=True, blank=True)

    not_accepted_reason = models.TextField(_("不予受理理由"), blank=True)
    legal_basis = models.CharField(_("法律依据"), max_length=300, blank=True)
    redirect_to = models.CharField(_("告知申请人向何机关申请"), max_length=200, blank=True)
    decision = models.CharField(_("决定"), max_length=16, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(_("决定理由"), blank=True)
    result_data = models.JSONField(_("办理结果"), default=dict, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("终止时间"), null=True, blank=True)
    withdraw_reason = models.CharField(_("撤回理由"), max_length=300, blank=True)
    # 容缺受理: a committed material is overdue (set by the beat, cleared when it arrives).
    tolerance_lapsed = models.BooleanField(_("容缺材料逾期未补齐"), default=False, db_default=False)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(applicant_user__isnull=False)
                | models.Q(enterprise__isnull=False)
                | models.Q(walk_in_person__isnull=False),
                name="cases_case_has_applicant",
            ),
            models.CheckConstraint(
                condition=models.Q(acting_user__isnull=False)
                | models.Q(walk_in_person__isnull=False),
                name="cases_case_has_acting_person",
            ),
            models.CheckConstraint(
                condition=models.Q(status=CaseStatus.DRAFT) | models.Q(number__isnull=False),
                name="cases_case_numbered_after_draft",
            ),
        ]
        indexes = [
            # clerk queue: department + state, oldest first
            models.Index(fields=["department", "status", "received_at"]),
            # department API / SLA scan: department + state + deadline
            models.Index(fields=["department", "status", "deadline"]),
            models.Index(fields=["status", "deadline"]),
            # department API list, newest first
            models.Index(fields=["department", "-created_at"]),
            models.Index(fields=["status", "supplement_notice_due"]),
            models.Index(fields=["acting_user", "-created_at"]),
            models.Index(fields=["applicant_user", "-created_at"]),
            models.Index(fields=["enterprise", "-created_at"]),
            models.Index(fields=["walk_in_person", "-created_at"]),
            models.Index(fields=["hall", "status", "received_at"]),
            # The office queue's first page: an ordered index scan with LIMIT over the live
            # cases of one department (or one hall), oldest first (selectors.list_queue_for_clerk).
            models.Index(
                fields=["department", "received_at", "id"],
                condition=models.Q(status__in=[str(s) for s in OFFICE_QUEUE_STATES]),
                name="cases_queue_dept_live",
            ),
            models.Index(
                fields=["hall", "received_at", "id"],
                condition=models.Q(status__in=[str(s) for s in OFFICE_QUEUE_STATES]),
                name="cases_queue_hall_live",
            ),
            # The queue filtered by item: the live cases of one item version, oldest first.
            models.Index(
                fields=["item_version", "received_at", "id"],
                condition=models.Q(status__in=[str(s) for s in OFFICE_QUEUE_STATES]),
                name="cases_queue_version_live",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"草稿#{self.pk}"

    @property
    def handoff_reference(self) -> str:
        return self.number or ""

    def can_transition(self, action: str) -> bool:
        return is_allowed(action, self.status)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATES

    @property
    def clock_running(self) -> bool:
        return self.status in CLOCK_STATES and self.accepted_at is not None


class CaseEvent(TimeStampedModel):
    """One entry of a case's timeline (环节): who did what, from which state to which."""

    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("动作"), max_length=32)
    from_status = models.CharField(_("原状态"), max_length=24, blank=True)
    to_status = models.CharField(_("新状态"), max_length=24)
    actor_kind = models.CharField(_("操作方"), max_length=16, choices=Actor.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人显示名"), max_length=200, blank=True)
    note = models.TextField(_("意见/说明"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)
    # Shown to the applicant on the timeline (internal notes are not).
    is_public = models.BooleanField(_("申请人可见"), default=True)

    class Meta:
        verbose_name = _("办件环节")
        verbose_name_plural = _("办件环节")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.from_status}→{self.to_status}"

    @property
    def action_label(self) -> str:
        try:
            return str(CaseAction(self.action).label)
        except ValueError:
            return str(EVENT_LABELS.get(self.action, self.action))

    @property
    def to_status_label(self) -> str:
        return str(CaseStatus(self.to_status).label)


# Timeline entries that are not state transitions.
EVENT_LABELS = {
    "material_added": _("提交材料"),
    "material_checked": _("核验材料"),
    "draft_created": _("创建草稿"),
    "tolerance_fulfilled": _("补齐容缺材料"),
    "sla_warning": _("超期预警"),
    "result_licence": _("生成结果证照"),
    "tolerance_lapsed": _("容缺材料逾期未补齐"),
    "claimed": _("申请人注册账号后认领"),
}


def _material_path(instance: CaseMaterial, filename: str) -> str:
    return filename  # services pass a random stored name (apps.core.uploads.stored_name)


class CaseMaterial(TimeStampedModel):
    """A material supplied for one material slot (``ItemMaterial.key``) of the item version.

    A slot is satisfied by an upload, an e-licence reference (the ``licences`` app plugs in
    through ``apps.cases.materials``), a shared-data source, or paper received at the window.
    """

    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="materials"
    )
    slot_key = models.SlugField(_("材料标识"), max_length=64)
    name = models.CharField(_("材料名称"), max_length=200)
    source = models.CharField(_("提供方式"), max_length=16, choices=MaterialSource.choices)
    file = models.FileField(
        _("文件"), storage=case_file_storage, upload_to=_material_path, max_length=200, blank=True
    )
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    content_type = models.CharField(_("文件类型"), max_length=64, blank=True)
    size = models.PositiveIntegerField(_("大小（字节）"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    licence_identifier = models.CharField(_("电子证照标识"), max_length=200, blank=True)
    shared_source = models.CharField(_("共享数据来源"), max_length=200, blank=True)
    copies = models.PositiveSmallIntegerField(_("份数"), default=0)
    status = models.CharField(
        _("核验结果"), max_length=16, choices=MaterialStatus.choices, default=MaterialStatus.PENDING
    )
    defect_reason = models.CharField(_("缺陷说明"), max_length=300, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核验人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("核验时间"), null=True, blank=True)
    # A resubmission replaces defective materials; the old rows stay for the record.
    is_current = models.BooleanField(_("当前有效"), default=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("办件材料")
        verbose_name_plural = _("办件材料")
        ordering = ["pk"]
        indexes = [models.Index(fields=["case", "slot_key", "is_current"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_source_display()}）"


class SupplementNotice(TimeStampedModel):
    """一次性告知书: every missing or defective material, listed at once (行政许可法 Art. 32)."""

    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="supplement_notices"
    )
    sequence = models.PositiveSmallIntegerField(_("序号"), default=1)
    items = models.JSONField(_("补正材料清单"), help_text=_("[{key, name, reason}]"))
    note = models.TextField(_("补正告知原因"), blank=True)
    due_days = models.PositiveSmallIntegerField(_("补正时限"))
    due_unit = models.CharField(_("时限单位"), max_length=1, choices=DayUnit.choices)
    due_at = models.DateTimeField(_("补正截止"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("告知人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    fulfilled_at = models.DateTimeField(_("补齐时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("补正告知")
        verbose_name_plural = _("补正告知")
        ordering = ["case", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="cases_notice_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.case} 补正告知 {self.sequence}"

    @property
    def keys(self) -> list[str]:
        return [item["key"] for item in self.items]


class SlaPause(TimeStampedModel):
    """An interval in which the SLA clock does not run (特别程序 / 审查中补正)."""

    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="pauses"
    )
    kind = models.CharField(_("种类"), max_length=16, choices=PauseKind.choices)
    reason = models.CharField(_("启动理由或依据"), max_length=300)
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    working_days = models.PositiveSmallIntegerField(_("暂停工作日"), default=0)
    result = models.TextField(_("结果"), blank=True)

    class Meta:
        verbose_name = _("暂停计时")
        verbose_name_plural = _("暂停计时")
        ordering = ["case", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(ended_at__isnull=True),
                name="cases_one_open_pause",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.get_kind_display()}"


class SlaWarning(TimeStampedModel):
    """电子监察 预警: raised once per (case, level) by the beat task."""

    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="warnings"
    )
    level = models.CharField(_("预警级别"), max_length=8, choices=SlaLevel.choices)
    deadline = models.DateTimeField(_("承诺办结日期"))
    days_left = models.SmallIntegerField(_("剩余工作日"))

    class Meta:
        verbose_name = _("超期预警")
        verbose_name_plural = _("超期预警")
        constraints = [
            models.UniqueConstraint(fields=["case", "level"], name="cases_warning_once_per_level")
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.get_level_display()}"


class ToleranceCommitment(TimeStampedModel):
    """容缺受理: a non-key material accepted as missing against a signed commitment."""

    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="tolerances"
    )
    slot_key = models.SlugField(_("材料标识"), max_length=64)
    name = models.CharField(_("材料名称"), max_length=200)
    commitment = models.TextField(_("信用承诺内容"))
    due_at = models.DateTimeField(_("补齐期限"))
    fulfilled_at = models.DateTimeField(_("补齐时间"), null=True, blank=True)
    lapsed_at = models.DateTimeField(_("逾期时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("容缺承诺")
        verbose_name_plural = _("容缺承诺")
        constraints = [
            models.UniqueConstraint(fields=["case", "slot_key"], name="cases_tolerance_once")
        ]

    def __str__(self) -> str:
        return f"{self.case} 容缺 {self.name}"
