from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已停用")


class Audience(models.TextChoices):
    PERSON = "person", _("个人")
    ENTERPRISE = "enterprise", _("企业")


class QuestionKind(models.TextChoices):
    YES_NO = "yes_no", _("是/否")
    CHOICE = "choice", _("单选")
    NUMBER = "number", _("数字")


class OutputSource(models.TextChoices):
    LICENCE = "licence", _("结果证照编号")
    RESULT_FIELD = "result_field", _("办理结果字段")


class OutputTarget(models.TextChoices):
    FORM_FIELD = "form_field", _("申请表字段")
    MATERIAL = "material", _("申请材料（电子证照）")


class ApplicationStatus(models.TextChoices):
    """A bundle application's state, derived from its children (``services.derive_status``)."""

    IN_PROGRESS = "in_progress", _("办理中")
    CONCLUDED = "concluded", _("已全部办结")
    PARTLY_CONCLUDED = "partly_concluded", _("部分办结")
    WITHDRAWN = "withdrawn", _("已撤回")


class DeliveryMethod(models.TextChoices):
    """统一出件: how the bundle's results reach the applicant, chosen by the applicant."""

    WINDOW = "window", _("全部办结后到综合窗口一次领取")
    POST = "post", _("全部办结后一次邮寄送达")
    WALLET = "wallet", _("电子证照逐项存入证照夹（办结一项推送一项）")


class ChildState(models.TextChoices):
    """Where one component of an application stands in the orchestration."""

    WAITING = "waiting", _("等待前置事项办结")
    STARTING = "starting", _("正在提交")
    SUBMITTED = "submitted", _("已提交部门")
    DECIDED = "decided", _("已作出决定")
    BLOCKED = "blocked", _("前置事项未获准予，无法办理")
    FAILED = "failed", _("提交未成功")
    CLOSED = "closed", _("已终止")


CHILD_OPEN_STATES = {ChildState.WAITING, ChildState.STARTING, ChildState.SUBMITTED}

# Versions offered when an answer set is enumerated at publish time; more than this and the
# publish check refuses (a bundle needing more questions should be split).
MAX_ANSWER_COMBINATIONS = 4096
