"""Structure of the catalogue codes (DOMAIN.md §1.3).

- 基本编码: the same for an item everywhere in China. GB/T 39046 says ``an..10``; real data has
  12 characters. We check the alphabet and a sane bound, never an exact length.
- 实施编码: item × implementing body. Production data reads as the 18-character USCC of the
  implementing body + one 行使层级 digit (GB/T 39046 A.2) + the basic code (31 characters with a
  12-character basic code). The structure is validated part by part, so a basic code of
  another length gives a code of another length and still passes (DOMAIN.md §8 point 3).
- 业务办理项编码: the implementation code plus a short suffix (○: the national layout was not
  read; configurable through ``CATALOG_VARIANT_SUFFIX_PATTERN``).
- Local codes (地方基本编码/地方实施编码) are stored side by side and only checked for a safe
  alphabet; provinces use their own layouts (Sichuan ``511A0138000000-511602000000-…``).

The validators are looked up by dotted path from ``settings.CATALOG_CODE_VALIDATORS`` so a
province can plug in its own scheme without touching the services.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from stdnum.cn import uscc as uscc_std
from stdnum.exceptions import ValidationError as StdnumError

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from apps.catalog.constants import ExerciseLevel

BASIC_CODE_MAX = 20
IMPLEMENTATION_CODE_MAX = 50
LOCAL_CODE_MAX = 64

_BASIC_CODE = re.compile(r"^[0-9A-Z]+$")
_LOCAL_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._\-]*$")
USCC_LENGTH = 18


@dataclass(frozen=True)
class ImplementationCodeParts:
    uscc: str
    level: str
    basic_code: str


def validate_basic_code(code: str) -> list[str]:
    """Errors (Chinese) for a national 基本编码; an empty list when it is well formed."""
    errors = []
    if not code:
        return [_("基本编码不能为空")]
    if not _BASIC_CODE.match(code):
        errors.append(_("基本编码只能由数字和大写字母组成"))
    if len(code) > BASIC_CODE_MAX:
        errors.append(_("基本编码过长（不超过%(n)d位）") % {"n": BASIC_CODE_MAX})
    # A code of only one repeated character is a placeholder, not a code.
    if len(set(code)) == 1:
        errors.append(_("基本编码不能是占位符"))
    return errors


def split_implementation_code(code: str) -> ImplementationCodeParts | None:
    if len(code) <= USCC_LENGTH + 1:
        return None
    return ImplementationCodeParts(
        uscc=code[:USCC_LENGTH], level=code[USCC_LENGTH], basic_code=code[USCC_LENGTH + 1 :]
    )


def build_implementation_code(*, uscc: str, level: str, basic_code: str) -> str:
    return f"{uscc}{level}{basic_code}"


def validate_implementation_code(
    code: str, *, department_uscc: str, exercise_level: str, basic_code: str
) -> list[str]:
    """Errors for a national 实施编码 checked against the item's own elements."""
    if not code:
        return [_("实施编码不能为空")]
    if len(code) > IMPLEMENTATION_CODE_MAX:
        return [_("实施编码过长（不超过%(n)d位）") % {"n": IMPLEMENTATION_CODE_MAX}]
    parts = split_implementation_code(code)
    if parts is None:
        return [_("实施编码应由实施主体统一社会信用代码、行使层级代码和基本编码组成")]
    errors = []
    try:
        uscc_std.validate(parts.uscc)
    except StdnumError:
        errors.append(_("实施编码前18位不是有效的统一社会信用代码"))
    else:
        if parts.uscc != department_uscc:
            errors.append(_("实施编码中的统一社会信用代码与实施主体不一致"))
    if parts.level not in ExerciseLevel.values:
        errors.append(_("实施编码第19位应为行使层级代码（1-7）"))
    elif exercise_level and parts.level != exercise_level:
        errors.append(_("实施编码中的行使层级与事项的行使层级不一致"))
    if parts.basic_code != basic_code:
        errors.append(_("实施编码末段应为该事项的基本编码"))
    return errors


def validate_variant_code(code: str, *, implementation_code: str) -> list[str]:
    """Errors for a 业务办理项编码: the implementation code plus a short suffix (○)."""
    pattern = getattr(settings, "CATALOG_VARIANT_SUFFIX_PATTERN", r"^[0-9A-Z]{2,6}$")
    if not code.startswith(implementation_code):
        return [_("业务办理项编码应以所属事项的实施编码开头")]
    if not re.match(pattern, code[len(implementation_code) :]):
        return [_("业务办理项编码的后缀格式不正确")]
    return []


def validate_local_code(code: str) -> list[str]:
    """Errors for a local (provincial) code; empty codes are allowed."""
    if not code:
        return []
    if len(code) > LOCAL_CODE_MAX or not _LOCAL_CODE.match(code):
        return [_("地方编码只能包含字母、数字、点、下划线和连字符，且不超过64位")]
    return []


CodeValidators = dict[str, Callable[..., list[str]]]

_DEFAULT_VALIDATORS = {
    "basic": "apps.catalog.codes.validate_basic_code",
    "implementation": "apps.catalog.codes.validate_implementation_code",
    "variant": "apps.catalog.codes.validate_variant_code",
    "local": "apps.catalog.codes.validate_local_code",
}


def code_validators() -> CodeValidators:
    configured = {**_DEFAULT_VALIDATORS, **getattr(settings, "CATALOG_CODE_VALIDATORS", {})}
    return {kind: import_string(path) for kind, path in configured.items()}
