"""Codes of the licences app (DOMAIN.md §3.3, §3.4, §3.7)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class HolderKind(models.TextChoices):
    """持证主体类别 (GB/T 36902)."""

    PERSON = "person", _("自然人")
    ENTERPRISE = "enterprise", _("法人")
    ORGANISATION = "organisation", _("其他组织")


class HolderCodeType(models.TextChoices):
    """持证主体代码类型 (GB/T 36903 ◐, DOMAIN.md §3.4)."""

    RESIDENT_ID = "111", _("公民身份号码")
    USCC = "001", _("统一社会信用代码")


class ValidityRule(models.TextChoices):
    """有效期限规则."""

    FIXED = "fixed", _("固定期限")
    LONG_TERM = "long_term", _("长期有效")


class LicenceStatus(models.TextChoices):
    """DOMAIN.md §3.7 (no national code list; modelled on the Administrative Licensing Law ○)."""

    VALID = "valid", _("有效")
    SUPERSEDED = "superseded", _("已变更/已延续")
    EXPIRED = "expired", _("已过期")
    CANCELLED = "cancelled", _("已注销")  # 行政许可法 Art. 70
    ANNULLED = "annulled", _("已撤销")  # Art. 69
    WITHDRAWN = "withdrawn", _("已撤回")  # Art. 8
    REVOKED = "revoked", _("已吊销")  # 行政处罚法
    SUSPENDED = "suspended", _("挂失/冻结")


class LicenceAction(models.TextChoices):
    ISSUE = "issue", _("签发")
    CHANGE = "change", _("变更")
    RENEW = "renew", _("延续")
    SUPERSEDE = "supersede", _("被新版本替代")
    EXPIRE = "expire", _("到期")
    CANCEL = "cancel", _("注销")
    ANNUL = "annul", _("撤销")
    WITHDRAW = "withdraw", _("撤回")
    REVOKE = "revoke", _("吊销")
    SUSPEND = "suspend", _("挂失/冻结")
    RESUME = "resume", _("解除挂失/冻结")


S, A = LicenceStatus, LicenceAction

# Which action moves a licence from which statuses to which status (STYLE.md M2). 注销 may
# follow expiry or a 撤销/撤回/吊销 (Art. 70), and is final; so are the others but for 挂失/冻结.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    A.SUPERSEDE: (frozenset({S.VALID, S.SUSPENDED}), S.SUPERSEDED),
    A.EXPIRE: (frozenset({S.VALID}), S.EXPIRED),
    A.CANCEL: (
        frozenset({S.VALID, S.EXPIRED, S.SUSPENDED, S.ANNULLED, S.WITHDRAWN, S.REVOKED}),
        S.CANCELLED,
    ),
    A.ANNUL: (frozenset({S.VALID, S.SUSPENDED, S.EXPIRED}), S.ANNULLED),
    A.WITHDRAW: (frozenset({S.VALID, S.SUSPENDED}), S.WITHDRAWN),
    A.REVOKE: (frozenset({S.VALID, S.SUSPENDED}), S.REVOKED),
    A.SUSPEND: (frozenset({S.VALID}), S.SUSPENDED),
    A.RESUME: (frozenset({S.SUSPENDED}), S.VALID),
}

# Status actions a department (or a clerk) may take directly; supersede and expire happen
# through change/renew and the expiry sweep.
MANUAL_ACTIONS = (A.CANCEL, A.ANNUL, A.WITHDRAW, A.REVOKE, A.SUSPEND, A.RESUME)

# Actions that need a stated legal basis besides the reason.
NEEDS_LEGAL_BASIS = frozenset({A.CANCEL, A.ANNUL, A.WITHDRAW, A.REVOKE})

DEFAULT_LEGAL_BASIS = {
    A.CANCEL: "《中华人民共和国行政许可法》第七十条",
    A.ANNUL: "《中华人民共和国行政许可法》第六十九条",
    A.WITHDRAW: "《中华人民共和国行政许可法》第八条",
    A.REVOKE: "《中华人民共和国行政处罚法》第九条",
}


class VerificationOutcome(models.TextChoices):
    VALID = "valid", _("有效")
    INVALID = "invalid", _("无效")
    NOT_FOUND = "not_found", _("未找到")
