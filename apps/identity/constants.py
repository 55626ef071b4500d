"""Identity vocabularies shared by every app (DOMAIN.md §4.2, §4.3)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AssuranceLevel(models.IntegerChoices):
    """Real-name assurance (实名等级). Each ItemImplementation declares a minimum for online use."""

    L1 = 1, _("L1 注册用户（手机号验证）")
    L2 = 2, _("L2 实名核验（姓名+身份证号比对人口库）")
    L3 = 3, _("L3 实人认证（人脸/网证/银行卡四要素）")
    L4 = 4, _("L4 现场核验（窗口当面核验或数字证书）")


class StaffRole(models.TextChoices):
    CLERK = "clerk", _("窗口受理人员")
    REVIEWER = "reviewer", _("审核人员")
    DEPT_ADMIN = "dept_admin", _("部门管理员")
    SUPERVISOR = "supervisor", _("监督人员")


class ApiScope(models.TextChoices):
    """OAuth2 scopes a department system's client may be granted (STYLE.md V3)."""

    CATALOG_READ = "catalog:read", _("读取事项")
    CATALOG_WRITE = "catalog:write", _("维护本部门事项")
    CASES_READ = "cases:read", _("读取本部门办件")
    CASES_WRITE = "cases:write", _("办理本部门办件（审查、决定、办结）")
    # Separately granted: the application forms' ID and mobile numbers in clear (audited).
    CASES_PII = "cases:pii", _("读取办件申请表中的个人信息原文")
    HANDOFFS = "handoffs", _("拉取并确认交接")
    LICENCES_READ = "licences:read", _("核验与读取电子证照")
    LICENCES_WRITE = "licences:write", _("签发、变更、注销电子证照")
    REVIEWS = "reviews", _("读取并答复好差评")
    MARKETPLACE_READ = "marketplace:read", _("读取本行业中介超市项目、报名、中选与机构信用")
    MARKETPLACE_WRITE = "marketplace:write", _("对本行业中介机构作出和解除惩戒")


class OidcScope(models.TextChoices):
    """Scopes a relying party (SSO) may be granted; the labels are shown on the consent page."""

    OPENID = "openid", _("确认您的身份（不同系统获得的用户标识互不相同）")
    PROFILE = "profile", _("基本信息：姓名、实名等级、用户类型、脱敏手机号")
    PHONE = "phone", _("完整手机号码")
    IDCARD = "idcard", _("完整身份证号码（仅限履行法定职责所必需，每次提供均留痕）")
    ENTERPRISE = "enterprise", _("代表企业办事的身份：企业名称、统一社会信用代码、授权范围与期限")
    STAFF = "staff", _("工作人员身份：在本系统所属部门的岗位")


class AssuranceMethod(models.TextChoices):
    """How a level was reached (DOMAIN.md §4.2); recorded with each raise."""

    PHONE_SMS = "phone_sms", _("手机号短信验证（注册）")
    POPULATION_REGISTRY = "population_registry", _("姓名+身份证号比对人口库")
    FACE = "face", _("活体人脸比对")
    CTID = "ctid", _("网络身份认证（网证）")
    BANK_FOUR_FACTOR = "bank_four_factor", _("银行卡四要素")
    WINDOW = "window", _("窗口当面核验")
    CERTIFICATE = "certificate", _("数字证书")


# Methods that reach each level (L1 is registration).
LEVEL_METHODS: dict[int, frozenset[str]] = {
    AssuranceLevel.L1: frozenset({AssuranceMethod.PHONE_SMS}),
    AssuranceLevel.L2: frozenset({AssuranceMethod.POPULATION_REGISTRY}),
    AssuranceLevel.L3: frozenset(
        {AssuranceMethod.FACE, AssuranceMethod.CTID, AssuranceMethod.BANK_FOUR_FACTOR}
    ),
    AssuranceLevel.L4: frozenset({AssuranceMethod.WINDOW, AssuranceMethod.CERTIFICATE}),
}


class IdType(models.TextChoices):
    """证件类型 (GA/T 2000.156; DOMAIN.md §0.2). Only the resident ID card is verified today."""

    RESIDENT_ID = "111", _("居民身份证")


class RegistryStatus(models.TextChoices):
    NORMAL = "normal", _("正常")
    DECEASED = "deceased", _("死亡注销")
    CANCELLED = "cancelled", _("户籍注销")


class EnterpriseStatus(models.TextChoices):
    """法人状态 as the legal-person registry reports it."""

    ACTIVE = "active", _("存续")
    REVOKED = "revoked", _("吊销")
    CANCELLED = "cancelled", _("注销")


class EnterpriseRoleKind(models.TextChoices):
    """Roles besides the legal representative, who is ``Enterprise.legal_representative``."""

    LICENCE_ADMIN = "licence_admin", _("证照管理员")


# DOMAIN.md §4.3: the legal representative may add at most five licence administrators.
MAX_LICENCE_ADMINS = 5


class AuthorisationScope(models.TextChoices):
    ALL = "all", _("全业务授权")
    ITEMS = "items", _("精准授权（指定事项）")


class RevokeReason(models.TextChoices):
    REVOKED = "revoked", _("授权人撤销")
    LEGAL_REP_CHANGED = "legal_rep_changed", _("法定代表人变更")
    GRANTOR_REMOVED = "grantor_removed", _("授权的证照管理员已被移除")


class SubjectType(models.TextChoices):
    """OIDC subject type claim (DOMAIN.md §4.6)."""

    PERSON = "person", _("自然人")
    ENTERPRISE = "enterprise", _("法人")
    STAFF = "staff", _("公职人员")


class PhoneCodePurpose(models.TextChoices):
    REGISTER = "register", _("注册")
    RESET_PASSWORD = "reset_password", _("找回密码")
