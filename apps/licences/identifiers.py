"""电子证照标识 (GB/T 36904, DOMAIN.md §3.2): build, parse and raise the version.

    1.2.156.3005.2 . <类型代码> . <颁发机构代码> . <流水号> . <版本号> . <校验位>

The check character is ISO/IEC 7064 MOD 37,36 (GB/T 17710) over type code + issuer code +
serial + version, concatenated without the root and the dots (``stdnum.iso7064.mod_37_36``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.iso7064 import mod_37_36

from django.utils.translation import gettext as _

from apps.core.exceptions import DomainError

ROOT = "1.2.156.3005.2"
_UPPER_ALNUM = re.compile(r"^[0-9A-Z]+$")
_TYPE_CODE = re.compile(r"^[0-9A-Z]{18}\d{3}$")
_VERSION = re.compile(r"^\d{3}$")
# Issuers are named by their USCC (18). Older provincial systems used the 6-digit 行政区划 code
# of the issuing region instead, as the Hefei identifier of DOMAIN.md §3.2 does: accepted on
# reading, never produced.
_LEGACY_ISSUER = re.compile(r"^\d{6}$")
MAX_SERIAL = 64


@dataclass(frozen=True)
class LicenceIdentifier:
    type_code: str
    issuer_code: str
    serial: str
    version: int

    @property
    def body(self) -> str:
        return f"{self.type_code}{self.issuer_code}{self.serial}{self.version:03d}"

    @property
    def check(self) -> str:
        return mod_37_36.calc_check_digit(self.body)

    def __str__(self) -> str:
        return (
            f"{ROOT}.{self.type_code}.{self.issuer_code}.{self.serial}."
            f"{self.version:03d}.{self.check}"
        )

    def next_version(self) -> LicenceIdentifier:
        """变更/延续: the same type, issuer and serial with the version raised by one."""
        if self.version >= 999:
            raise DomainError(_("证照版本号已达上限"), code="licence_version_exhausted")
        return replace(self, version=self.version + 1)


def _invalid(message: str) -> DomainError:
    return DomainError(message, code="licence_identifier_invalid")


def is_type_code(code: str) -> bool:
    """证照类型代码: the defining authority's USCC (valid check digit) + 3 digits."""
    return bool(_TYPE_CODE.match(code or "")) and uscc.is_valid(code[:18])


def build_identifier(
    *, type_code: str, issuer_code: str, serial: str, version: int = 1
) -> LicenceIdentifier:
    """A new identifier; ``DomainError`` when a part is malformed."""
    ident = LicenceIdentifier(type_code, issuer_code, serial, version)
    _check_parts(ident, allow_legacy_issuer=False)
    return ident


def new_serial() -> str:
    """A GUID without dashes in upper case (GB/T 36904 allows it as 流水号)."""
    return uuid.uuid4().hex.upper()


def _check_parts(ident: LicenceIdentifier, *, allow_legacy_issuer: bool) -> None:
    if not is_type_code(ident.type_code):
        raise _invalid(_("证照类型代码不正确（应为定义机构统一社会信用代码加3位数字）"))
    issuer_ok = (
        len(ident.issuer_code) == 18
        and bool(_UPPER_ALNUM.match(ident.issuer_code))
        and uscc.is_valid(ident.issuer_code)
    )
    if not issuer_ok and not (allow_legacy_issuer and _LEGACY_ISSUER.match(ident.issuer_code)):
        raise _invalid(_("颁发机构代码不正确（应为统一社会信用代码）"))
    if not ident.serial or len(ident.serial) > MAX_SERIAL or not _UPPER_ALNUM.match(ident.serial):
        raise _invalid(_("流水号只能由大写字母和数字组成"))
    if not 1 <= ident.version <= 999:
        raise _invalid(_("版本号应为001至999"))


def parse_identifier(value: str) -> LicenceIdentifier:
    """The parts of an identifier, after checking every part and the check character.

    Lower case is refused, not folded: the standard's alphabet is upper case, and a folded
    identifier would not be the one printed on the licence.
    """
    value = (value or "").strip()
    if not value.startswith(ROOT + "."):
        raise _invalid(_("电子证照标识应以 1.2.156.3005.2 开头"))
    parts = value[len(ROOT) + 1 :].split(".")
    if len(parts) != 5:
        raise _invalid(_("电子证照标识应由类型代码、颁发机构代码、流水号、版本号和校验位组成"))
    type_code, issuer_code, serial, version, check = parts
    if not _VERSION.match(version):
        raise _invalid(_("版本号应为3位数字"))
    if len(check) != 1 or not _UPPER_ALNUM.match(check):
        raise _invalid(_("校验位应为1位大写字母或数字"))
    ident = LicenceIdentifier(type_code, issuer_code, serial, int(version))
    _check_parts(ident, allow_legacy_issuer=True)
    try:
        mod_37_36.validate(ident.body + check)
    except StdnumValidationError as exc:
        raise _invalid(_("电子证照标识校验位不正确")) from exc
    return ident


def is_valid_identifier(value: str) -> bool:
    try:
        parse_identifier(value)
    except DomainError:
        return False
    return True
