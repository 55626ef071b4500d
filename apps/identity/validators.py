"""Number checks with clear Chinese messages (DOMAIN.md §4.4).

居民身份号码 (GB 11643-1999): 18 characters, 6-digit address code, 8-digit birth date, 3-digit
sequence, ISO 7064 MOD 11-2 check character (``stdnum.cn.ric``). The birth date must exist and
not lie in the future; the address code need not be current (old codes persist).
统一社会信用代码 (GB 32100-2015): ``apps.core.models.validate_uscc`` (``stdnum.cn.uscc``).
"""

from __future__ import annotations

import datetime
import re

from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import validate_uscc
from apps.identity.pii import normalise

__all__ = ["clean_id_number", "clean_phone", "validate_id_number", "validate_uscc"]

_ID_FORMAT = re.compile(r"^\d{17}[\dX]$")
_PHONE_FORMAT = re.compile(r"^1[3-9]\d{9}$")


def clean_id_number(value: str) -> str:
    """Return the canonical ID number (upper-case ``X``) or raise ``ValidationError``."""
    number = normalise(value or "")
    if len(number) != 18:
        raise ValidationError(
            _("身份证号码应为18位（当前%(length)d位）"),
            code="id_length",
            params={"length": len(number)},
        )
    if not _ID_FORMAT.match(number):
        raise ValidationError(
            _("身份证号码格式不正确：前17位应为数字，最后一位为数字或X"), code="id_format"
        )
    try:
        birth = ric.get_birth_date(number)
    except InvalidComponent as exc:
        raise ValidationError(
            _("身份证号码中的出生日期 %(date)s 不存在"),
            code="id_birth_date",
            params={"date": number[6:14]},
        ) from exc
    if birth > timezone.localdate() or birth < datetime.date(1880, 1, 1):
        raise ValidationError(
            _("身份证号码中的出生日期 %(date)s 不合理"),
            code="id_birth_date",
            params={"date": number[6:14]},
        )
    if ric.calc_check_digit(number) != number[-1]:
        raise ValidationError(_("身份证号码校验位错误，请核对后重新输入"), code="id_checksum")
    return number


def validate_id_number(value: str) -> None:
    clean_id_number(value)


def clean_phone(value: str) -> str:
    """Mainland mobile number, 11 digits starting 13–19; ``+86`` and spaces tolerated."""
    number = normalise(value or "")
    if number.startswith("+86"):
        number = number[3:]
    if not _PHONE_FORMAT.match(number):
        raise ValidationError(_("请输入11位中国大陆手机号码"), code="phone_format")
    return number


def validate_phone(value: str) -> None:
    clean_phone(value)
