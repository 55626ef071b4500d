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
    HANDOFFS = "handoffs", _("拉取并确认交接")
    LICENCES_READ = "licences:read", _("核验与读取电子证照")
    LICENCES_WRITE = "licences:write", _("签发、变更、注销电子证照")
    REVIEWS = "reviews", _("读取并答复好差评")
