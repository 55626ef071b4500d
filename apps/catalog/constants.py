"""Code tables of the service-item catalogue (DOMAIN.md §1.2-1.4, GB/T 39046-2020 annex A).

Stored values are the GB/T 39046 codes where the standard gives one (A.1-A.5); where it does
not (material form, necessity, source) we use stable English slugs and map at the boundary.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ItemType(models.TextChoices):
    """事项类型, GB/T 39046 表 A.1 ✅ (00 is the group heading, not an item type)."""

    LICENSING = "01", _("行政许可")
    PENALTY = "02", _("行政处罚")
    ENFORCEMENT = "03", _("行政强制")
    LEVY = "04", _("行政征收")
    BENEFIT = "05", _("行政给付")
    INSPECTION = "06", _("行政检查")
    CONFIRMATION = "07", _("行政确认")
    REWARD = "08", _("行政奖励")
    ADJUDICATION = "09", _("行政裁决")
    OTHER_POWER = "10", _("其他行政权力")
    FILING = "11", _("行政备案")
    PUBLIC_SERVICE = "20", _("公共服务")


# DOMAIN.md §1.2: types a citizen or enterprise applies for on the portal (依申请).
APPLICABLE_ITEM_TYPES = frozenset(
    {
        ItemType.LICENSING,
        ItemType.BENEFIT,
        ItemType.CONFIRMATION,
        ItemType.REWARD,
        ItemType.ADJUDICATION,
        ItemType.OTHER_POWER,
        ItemType.FILING,
        ItemType.PUBLIC_SERVICE,
    }
)


class ExerciseLevel(models.TextChoices):
    """行使层级, GB/T 39046 表 A.2 ✅."""

    NATIONAL = "1", _("国家级")
    PROVINCE = "2", _("省级")
    CITY = "3", _("市级")
    COUNTY = "4", _("县级")
    TOWNSHIP = "5", _("镇（乡、街道）级")
    VILLAGE = "6", _("村（社区）级")
    TIERED = "7", _("分级管理")


class BodyNature(models.TextChoices):
    """实施主体性质, GB/T 39046 表 A.3 ✅."""

    STATUTORY = "1", _("法定机关")
    AUTHORISED = "2", _("授权组织")
    ENTRUSTED = "3", _("受委托组织")
    OTHER = "9", _("其他")


class ServiceObject(models.TextChoices):
    """服务对象, GB/T 39046 表 A.4 ✅ (multi-valued)."""

    PERSON = "1", _("自然人")
    ENTERPRISE = "2", _("企业法人")
    PUBLIC_INSTITUTION = "3", _("事业法人")
    SOCIAL_ORGANISATION = "4", _("社会组织法人")
    GOVERNMENT = "5", _("行政机关")
    OTHER = "6", _("其他组织")


class ApplicantKind(models.TextChoices):
    """Who an application form is filled in for (issue 16 §5): a person for themselves, an
    enterprise through its legal representative or licence administrator, or an enterprise
    through an agent (经办人). Form schema fields may be limited to some kinds
    (``"x-applicant-kinds"``, apps.catalog.forms)."""

    PERSON = "person", _("自然人本人")
    ENTERPRISE = "enterprise", _("法人（法定代表人或证照管理员）")
    AGENT = "agent", _("法人委托的经办人")


class HandlingForm(models.TextChoices):
    """办理形式, GB/T 39046 表 A.5 ✅ (multi-valued)."""

    WINDOW = "1", _("窗口办理")
    PC = "2", _("电脑端网上办理")
    MOBILE = "3", _("移动端网上申请")
    POST = "4", _("快递申请")
    OTHER = "9", _("其他")


class PowerSource(models.TextChoices):
    """权力来源 ◐ (5 and 6 ○, DOMAIN.md §8 point 5)."""

    STATUTORY = "1", _("法定本级行使")
    DELEGATED = "2", _("上级下放")
    AUTHORISED_BY_SUPERIOR = "3", _("上级授权")
    AUTHORISED_BY_PEER = "4", _("同级授权")
    ENTRUSTED_BY_SUPERIOR = "5", _("上级委托")
    ENTRUSTED_BY_PEER = "6", _("同级委托")


class CaseKind(models.TextChoices):
    """办件类型, GB/T 39046 表 A.6 (1 即办件, 2 承诺件); the agreed interface stores slugs."""

    INSTANT = "instant", _("即办件")
    PROMISED = "promised", _("承诺件")


CASE_KIND_NATIONAL_CODES = {CaseKind.INSTANT: "1", CaseKind.PROMISED: "2"}


class OnlineDepth(models.TextChoices):
    """网上办理深度 (multi-select national element ◐, DOMAIN.md §1.4)."""

    CONSULT = "1", _("互联网咨询")
    RECEIVE = "2", _("互联网收件")
    PRE_REVIEW = "3", _("互联网预审")
    ACCEPT = "4", _("互联网受理")
    HANDLE = "5", _("互联网办理")
    RESULT_FEEDBACK = "6", _("互联网办理结果信息反馈")
    LICENCE_FEEDBACK = "7", _("互联网电子证照反馈")
    OTHER = "8", _("其他")


class Channel(models.TextChoices):
    ONLINE = "online", _("网上办理")
    WINDOW = "window", _("窗口办理")
    BOTH = "both", _("网上或窗口办理")


class UniversalScope(models.TextChoices):
    """通办范围 ✅ (values given, codes not)."""

    NONE = "", _("不通办")
    NATIONWIDE = "nationwide", _("全国通办")
    CROSS_PROVINCE = "cross_province", _("跨省通办")
    CROSS_CITY = "cross_city", _("全省通办（跨市）")
    CROSS_COUNTY = "cross_county", _("全市通办（跨县）")


class ResultType(models.TextChoices):
    LICENCE = "licence", _("证照")
    APPROVAL = "approval", _("批文")
    CERTIFICATE = "certificate", _("证明")
    OTHER = "other", _("其他")


class ItemStatus(models.TextChoices):
    """Life cycle of an implementation item (STYLE.md M2)."""

    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    SUSPENDED = "suspended", _("暂停办理")
    RETIRED = "retired", _("已取消")


# Publishing is also allowed from PUBLISHED (a new version) and SUSPENDED (resume with changes).
ITEM_TRANSITIONS: dict[str, frozenset[str]] = {
    ItemStatus.DRAFT: frozenset({ItemStatus.PUBLISHED, ItemStatus.RETIRED}),
    ItemStatus.PUBLISHED: frozenset(
        {ItemStatus.PUBLISHED, ItemStatus.SUSPENDED, ItemStatus.RETIRED}
    ),
    ItemStatus.SUSPENDED: frozenset({ItemStatus.PUBLISHED, ItemStatus.RETIRED}),
    ItemStatus.RETIRED: frozenset(),
}


class MaterialRequirement(models.TextChoices):
    REQUIRED = "required", _("必要")
    CONDITIONAL = "conditional", _("非必要（视情形提供）")


class MaterialForm(models.TextChoices):
    ORIGINAL = "original", _("原件")
    COPY = "copy", _("复印件")
    ELECTRONIC = "electronic", _("电子")


class MaterialSource(models.TextChoices):
    APPLICANT = "applicant", _("申请人自备")
    GOVERNMENT = "government", _("政府部门核发")
    INTERMEDIARY = "intermediary", _("中介机构出具")
    OTHER = "other", _("其他")


class ThemeAudience(models.TextChoices):
    PERSON = "person", _("个人")
    ENTERPRISE = "enterprise", _("法人")


# Life events (个人) and enterprise life stages (法人) used for browsing; the slugs are the ones
# the home page links to (templates/core/home.html).
THEMES: list[tuple[str, str, str]] = [
    ("birth", ThemeAudience.PERSON, "出生"),
    ("education", ThemeAudience.PERSON, "上学"),
    ("employment", ThemeAudience.PERSON, "就业"),
    ("marriage", ThemeAudience.PERSON, "婚育"),
    ("housing", ThemeAudience.PERSON, "住房"),
    ("social-security", ThemeAudience.PERSON, "社保"),
    ("travel", ThemeAudience.PERSON, "出行"),
    ("medical", ThemeAudience.PERSON, "医疗"),
    ("retirement", ThemeAudience.PERSON, "退休"),
    ("after-death", ThemeAudience.PERSON, "身后"),
    ("start-up", ThemeAudience.ENTERPRISE, "开办"),
    ("operation", ThemeAudience.ENTERPRISE, "经营"),
    ("construction", ThemeAudience.ENTERPRISE, "投资建设"),
    ("tax", ThemeAudience.ENTERPRISE, "纳税"),
    ("change", ThemeAudience.ENTERPRISE, "变更"),
    ("closure", ThemeAudience.ENTERPRISE, "注销"),
]

# DOMAIN.md §1.4 / 国发〔2022〕5号: vague catch-all material requirements are forbidden.
CATCH_ALL_MATERIAL_PATTERNS = (
    "其他材料",
    "其它材料",
    "相关材料",
    "其他相关材料",
    "其他有关材料",
    "有关材料",
    "其他需要提供的材料",
    "其他证明材料",
    "等材料",
)
