"""The licence catalogue as ``apps.catalog.licence_types`` reads it (the registered source).

The table is small and read on every guide page, so each process keeps it for a short while;
``invalidate_catalogue`` (called by the services that change a type) drops the copy.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from apps.catalog.licence_types import LicenceType as CatalogLicenceType
from apps.licences.constants import HolderKind
from apps.licences.models import LicenceType

TTL_SECONDS = 60.0

_cache: dict[str, tuple[float, Mapping[str, CatalogLicenceType]]] = {}


def invalidate_catalogue() -> None:
    _cache.clear()


def catalogue_table() -> Mapping[str, CatalogLicenceType]:
    """Every active licence type by code, in the catalog app's shape."""
    now = time.monotonic()
    cached = _cache.get("table")
    if cached is not None and now - cached[0] < TTL_SECONDS:
        return cached[1]
    rows = LicenceType.objects.filter(is_active=True).values_list(
        "code", "name", "definer_code", "definer_name", "holder_kind"
    )
    table = {
        code: CatalogLicenceType(
            code,
            name,
            definer,
            definer_name,
            "person" if holder_kind == HolderKind.PERSON else "enterprise",
        )
        for code, name, definer, definer_name, holder_kind in rows
    }
    _cache["table"] = (now, table)
    return table
