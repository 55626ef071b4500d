"""How a material slot is satisfied without an upload: the interface other apps plug into.

The ``licences`` app (issue 7: e-licences) supplies the real resolver in its
``AppConfig.ready()``::

    from apps.cases.materials import register_licence_resolver
    register_licence_resolver(resolve_licence_for_case)

A resolver is called by ``apps.cases.services.add_material_licence`` inside the transaction
that adds the material (the case row is locked), as::

    resolver(*, user, enterprise, identifier, licence_types) -> LicenceReference

- ``user``: the person applying (or the acting person for an enterprise);
- ``enterprise``: the enterprise applicant, or ``None`` for a person;
- ``identifier``: what the applicant entered or picked from their wallet (GB/T 36904);
- ``licence_types``: the type codes the material slot accepts (``ItemMaterial.licence_types``).

It returns a ``LicenceReference`` when the holder may use that licence for one of the types —
valid, not revoked, held by ``user`` / ``enterprise`` or usable under their authorisation — and
records the use (用证记录, DOMAIN.md §3.6) in the same transaction; otherwise it raises
``apps.core.exceptions.DomainError`` with a Chinese message, which the pages show and the API
turns into a 400. The case keeps only the identifier, never a copy of the licence.

Until the licences app registers, ``default_licence_resolver`` accepts a well-formed identifier
whose type code is one the slot accepts (check character verified), so the flow is usable end
to end in the demo.

The other direction — "decided → issue the result licence when the item issues one" — is the
decision hook in ``apps.cases.hooks``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.iso7064 import mod_37_36

from django.utils.translation import gettext as _

from apps.core.exceptions import DomainError


@dataclass(frozen=True)
class LicenceReference:
    """A licence the applicant may use for a material slot (免提交)."""

    identifier: str  # GB/T 36904 电子证照标识
    licence_type: str  # 证照类型代码 (definer USCC + 3 digits)
    name: str = ""  # e.g. 营业执照
    valid_until: date | None = None


class LicenceResolver(Protocol):
    def __call__(
        self, *, user: Any, enterprise: Any, identifier: str, licence_types: Sequence[str]
    ) -> LicenceReference: ...


# 1.2.156.3005.2.<type code: definer USCC + 3 digits>.<issuer USCC>.<serial>.<version>.<check>
_IDENTIFIER = re.compile(
    r"^1\.2\.156\.3005\.2\.(?P<type>[0-9A-Z]{18}\d{3})\.(?P<issuer>[0-9A-Z]{18})"
    r"\.(?P<serial>\w+)\.(?P<version>\d{3})\.(?P<check>\w)$"
)


def parse_identifier(identifier: str) -> dict[str, str]:
    """The parts of a GB/T 36904 identifier; ``DomainError`` when malformed or the ISO 7064
    MOD 37,36 check character (over the parts without root and dots) is wrong."""
    match = _IDENTIFIER.match(identifier.strip())
    if match is None:
        raise DomainError(_("电子证照标识格式不正确"), code="licence_identifier_invalid")
    parts = match.groupdict()
    body = parts["type"] + parts["issuer"] + parts["serial"] + parts["version"]
    try:
        mod_37_36.validate(body + parts["check"])
    except StdnumValidationError as exc:
        raise DomainError(_("电子证照标识校验位不正确"), code="licence_identifier_invalid") from exc
    return parts


def default_licence_resolver(
    *, user: Any, enterprise: Any, identifier: str, licence_types: Sequence[str]
) -> LicenceReference:
    parts = parse_identifier(identifier)
    if parts["type"] not in licence_types:
        raise DomainError(_("该电子证照不能替代本材料"), code="licence_type_mismatch")
    return LicenceReference(identifier=identifier.strip(), licence_type=parts["type"])


_resolver: LicenceResolver = default_licence_resolver


def register_licence_resolver(fn: LicenceResolver) -> None:
    """Install the resolver used for every licence reference (the licences app calls this)."""
    global _resolver
    _resolver = fn


@contextmanager
def licence_resolver(fn: LicenceResolver) -> Iterator[None]:
    """Use ``fn`` for the duration (tests)."""
    previous = _resolver
    register_licence_resolver(fn)
    try:
        yield
    finally:
        register_licence_resolver(previous)


# --- the wallet: which licences an applicant could use for a slot ------------------------------
#
# The licences app registers ``wallet_licences_for(*, user, enterprise, licence_types)`` returning
# the holder's currently valid licences of those types, so the materials step can offer them as
# one-click 免提交 choices. Without it the list is empty and only typing an identifier works.


class WalletLookup(Protocol):
    def __call__(
        self, *, user: Any, enterprise: Any, licence_types: Sequence[str]
    ) -> list[LicenceReference]: ...


def _no_wallet(
    *, user: Any, enterprise: Any, licence_types: Sequence[str]
) -> list[LicenceReference]:
    return []


_wallet: WalletLookup = _no_wallet


def register_wallet_lookup(fn: WalletLookup) -> None:
    global _wallet
    _wallet = fn


def wallet_licences(
    *, user: Any, enterprise: Any, licence_types: Sequence[str]
) -> list[LicenceReference]:
    """Valid licences of ``licence_types`` the applicant holds (nothing is logged: the holder
    looks at their own wallet; the use is logged when one is picked)."""
    if not licence_types:
        return []
    return _wallet(user=user, enterprise=enterprise, licence_types=licence_types)


def resolve_licence(
    *, user: Any, enterprise: Any, identifier: str, licence_types: Sequence[str]
) -> LicenceReference:
    return _resolver(
        user=user, enterprise=enterprise, identifier=identifier, licence_types=licence_types
    )
