"""Vocabularies of the 中介服务超市 (DOMAIN.md §6)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AgencyStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    PUBLICITY = "publicity", _("公示中")
    LISTED = "listed", _("已入库")
    REJECTED = "rejected", _("未通过")
    SUSPENDED = "suspended", _("暂停承接")
    EXPELLED = "expelled", _("已清退")


class AgencyServiceStatus(models.TextChoices):
    ACTIVE = "active", _("可承接")
    SUSPENDED = "suspended", _("已暂停（资质失效）")


class SelectionMethod(models.TextChoices):
    DIRECT = "direct", _("直接选取")
    RANDOM = "random", _("随机抽取")
    CREDIT = "credit", _("信用择优")
    BIDDING = "bidding", _("竞价选取")
    PROPOSAL = "proposal", _("方案择优")


class BidMode(models.TextChoices):
    SEALED = "sealed", _("密封报价（每轮结束后公开）")
    OPEN = "open", _("公开多轮（实时显示当前最低价）")


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待审核")
    RETURNED = "returned", _("退回修改")
    REGISTERING = "registering", _("报名中")
    SELECTING = "selecting", _("选取中")
    AWAITING_PICK = "awaiting_pick", _("待业主确定")
    AWARDED = "awarded", _("已中选")
    FAILED = "failed", _("项目失败")


# Statuses the public may see (采购公告 and results); drafts and projects under review are not.
PUBLIC_PROJECT_STATUSES = (
    ProjectStatus.REGISTERING,
    ProjectStatus.SELECTING,
    ProjectStatus.AWAITING_PICK,
    ProjectStatus.AWARDED,
    ProjectStatus.FAILED,
)


class DrawStatus(models.TextChoices):
    COMMITTED = "committed", _("已公布承诺值")
    FROZEN = "frozen", _("名单已冻结")
    DRAWN = "drawn", _("已抽取")


class DrawPurpose(models.TextChoices):
    WINNER = "winner", _("抽取中选机构")
    SHORTLIST = "shortlist", _("抽取小名单")


class ContractStatus(models.TextChoices):
    AWAITING_SIGNATURE = "awaiting_signature", _("待签订")
    SIGNED = "signed", _("已签订")
    REFUSED = "refused", _("中选机构拒签")
    COMPLETED = "completed", _("服务已完成")


class ObjectionStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    UPHELD = "upheld", _("异议成立")
    DISMISSED = "dismissed", _("异议不成立")
    CLOSED = "closed", _("已终结（中选结果已撤销）")


class SanctionKind(models.TextChoices):
    WARNING = "warning", _("警告")
    SUSPENSION = "suspension", _("暂停承接")
    EXPULSION = "expulsion", _("清退")
    BLACKLIST = "blacklist", _("列入黑名单")


class EvaluatorKind(models.TextChoices):
    OWNER = "owner", _("项目业主评价")
    SUPERVISOR = "supervisor", _("行业主管部门评价")
