"""How a material slot is satisfied without an upload: the interface other apps plug into.

The ``licences`` app (issue: e-licences) registers a resolver in its ``AppConfig.ready()``::

    from apps.cases.materials import register_licence_resolver
    register_licence_resolver(resolve_for_case)

``resolve_for_case(*, user, enterprise, identifier, licence_types)`` returns a
``LicenceReference`` when the holder may use that licence for one of ``licence_types`` (and logs
the use, DOMAIN.md §3.6), or raises ``DomainError``. Until then the default resolver accepts a
well-formed GB/T 36904 identifier whose type code is one of the slot's ``licence_types``, so the
flow is usable end to end; the case keeps only the identifier, never a copy of the licence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from apps.core.exceptions import DomainError


@dataclass(frozen=True)
class LicenceReference:
    identifier: str
    licence_type: str
    name: str = ""


LicenceResolver = Callable[..., LicenceReference]

# 1.2.156.3005.2.<type code: definer USCC + 3 digits>.<issuer USCC>.<serial>.<version>.<check>
_IDENTIFIER = re.compile(
    r"^1\.2\.156\.3005\.2\.(?P<type>[0-9A-Z]{18}\d{3})\.[0-9A-Z]{18}\.\w+\.\d{3}\.\w$"
)


def default_licence_resolver(
    *, user: Any, enterprise: Any, identifier: str, licence_types: Sequence[str]
) -> LicenceReference:
    match = _IDENTIFIER.match(identifier.strip())
    if match is None:
        raise DomainError(_("电子证照标识格式不正确"), code="licence_identifier_invalid")
    if match["type"] not in licence_types:
        raise DomainError(_("该电子证照不能替代本材料"), code="licence_type_mismatch")
    return LicenceReference(identifier=identifier.strip(), licence_type=match["type"])


_resolver: LicenceResolver = default_licence_resolver


def register_licence_resolver(fn: LicenceResolver) -> None:
    global _resolver
    _resolver = fn


def resolve_licence(
    *, user: Any, enterprise: Any, identifier: str, licence_types: Sequence[str]
) -> LicenceReference:
    return _resolver(
        user=user, enterprise=enterprise, identifier=identifier, licence_types=licence_types
    )
