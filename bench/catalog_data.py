"""Generated catalogues for the search EXPLAIN test and the search benchmark."""

from __future__ import annotations

import itertools

from django.db import connection

from apps.catalog import search
from apps.catalog.constants import ItemStatus
from apps.catalog.demo_items import ITEMS
from apps.catalog.models import ItemVersion, ServiceItem
from apps.core.models import Department


def generate_items(*, n: int, department: Department, version: ItemVersion) -> int:
    """Insert ``n`` published items whose names cycle through the demo catalogue's names.

    All rows share ``version`` as their current version (the search reads the item row and
    its index only). Search vectors are computed by ``apps.catalog.search`` as at publish.
    Returns the number of rows inserted; ``ANALYZE`` runs so the planner sees the volume.
    """
    templates = itertools.cycle(ITEMS)
    rows = []
    for i in range(n):
        template = next(templates)
        name = f"{template.name}（批次{i:05d}）"
        text = search.IndexedText(name=name, keywords=template.keywords, department=department.name)
        rows.append(
            ServiceItem(
                name=name,
                basic_code=f"{i:012d}",
                implementation_code=f"{department.uscc}9{i:012d}",
                item_type=template.item_type,
                exercise_level="2",
                department=department,
                keywords=template.keywords,
                status=ItemStatus.PUBLISHED,
                current_version=version,
                serves_person=template.audience == "person",
                serves_enterprise=template.audience == "enterprise",
                has_unpublished_changes=False,
                # tsvector input syntax; PostgreSQL casts the literal on insert.
                search_vector=search.tsvector_literal(text),
            )
        )
    ServiceItem.objects.bulk_create(rows, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_serviceitem")
    return n
