"""The licence catalogue's seed sync (loaddemo)."""

from __future__ import annotations

from apps.licences.catalogue import invalidate_catalogue
from apps.licences.models import (
    LicenceType,
)


def sync_licence_catalogue() -> int:
    """Add the seed list's types missing from the catalogue (loaddemo; idempotent)."""
    from apps.licences.seed import seed_rows

    created = 0
    for row in seed_rows():
        _obj, was_created = LicenceType.objects.get_or_create(code=row["code"], defaults=row)
        created += int(was_created)
    invalidate_catalogue()
    return created
