"""Generated catalogues for the search EXPLAIN test and the search benchmark."""

from __future__ import annotations

import itertools

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.catalog import search
from apps.catalog.constants import ItemStatus
from apps.catalog.demo import _material
from apps.catalog.demo_items import ITEMS
from apps.catalog.models import ELEMENT_FIELDS, ItemMaterial, ItemVersion, ServiceItem
from apps.core.models import Department

BATCH = 1000
GENERATED_MARK = "9"  # implementation codes of generated items: <USCC>9<12 digits>


def generated_items(department: Department) -> QuerySet[ServiceItem]:
    return ServiceItem.objects.filter(
        implementation_code__startswith=f"{department.uscc}{GENERATED_MARK}"
    )


def generate_items(*, n: int, department: Department, version: ItemVersion, start: int = 0) -> int:
    """Insert ``n`` published items whose names cycle through the demo catalogue's names.

    Every item has a version of its own (version 1, the elements of ``version`` with the
    item's name, codes, type and keywords) and that template's materials (one to five, with
    their licence types), as published items have, so a results page prefetches as many
    distinct versions and materials as it would in production. Search vectors are computed by
    ``apps.catalog.search`` as at publish. Returns the number of items inserted; ``ANALYZE``
    runs so the planner sees the volume.
    """
    templates = itertools.islice(itertools.cycle(ITEMS), start, None)
    base = {field: getattr(version, field) for field in ELEMENT_FIELDS}
    now = timezone.now()
    with transaction.atomic():
        for first in range(start, start + n, BATCH):
            chosen = [(i, next(templates)) for i in range(first, min(start + n, first + BATCH))]
            items = []
            for i, template in chosen:
                name = f"{template.name}（批次{i:05d}）"
                text = search.IndexedText(
                    name=name, keywords=template.keywords, department=department.name
                )
                items.append(
                    ServiceItem(
                        **{
                            **base,
                            "name": name,
                            "basic_code": f"{i:012d}",
                            "implementation_code": f"{department.uscc}{GENERATED_MARK}{i:012d}",
                            "item_type": template.item_type,
                            "exercise_level": "2",
                            "keywords": template.keywords,
                        },
                        department=department,
                        status=ItemStatus.PUBLISHED,
                        published_name=name,
                        serves_person=template.audience == "person",
                        serves_enterprise=template.audience == "enterprise",
                        has_unpublished_changes=False,
                        # tsvector input syntax; PostgreSQL casts the literal on insert.
                        search_vector=search.tsvector_literal(text),
                    )
                )
            ServiceItem.objects.bulk_create(items)
            versions = ItemVersion.objects.bulk_create(
                [
                    ItemVersion(
                        **{field: getattr(item, field) for field in ELEMENT_FIELDS},
                        item=item,
                        version=1,
                        department=department,
                        published_at=now,
                        published_via="bench.catalog_data",
                    )
                    for item in items
                ]
            )
            ItemMaterial.objects.bulk_create(
                [
                    ItemMaterial(version=item_version, **_material(m, order))
                    for item_version, (_, template) in zip(versions, chosen, strict=True)
                    for order, m in enumerate(template.materials)
                ]
            )
            # One joined UPDATE per batch (bulk_update's CASE over 1,000 ids was most of the
            # time of a 100,000-item catalogue).
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE catalog_serviceitem AS s SET current_version_id = v.id"
                    " FROM catalog_itemversion AS v"
                    " WHERE v.item_id = s.id AND s.id = ANY(%s)",
                    [[item.pk for item in items]],
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_serviceitem")
        cursor.execute("ANALYZE catalog_itemversion")
        cursor.execute("ANALYZE catalog_itemmaterial")
    return n


def delete_generated_items(department: Department) -> int:
    """Remove generated items with their versions and materials (bench reruns after a change of
    the generator). Versions are immutable by trigger; the bench database's superuser lifts the
    triggers for this transaction only (``session_replication_role``)."""
    items = generated_items(department)
    item_ids = list(items.values_list("pk", flat=True))
    if not item_ids:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        own = ItemVersion.objects.filter(item_id__in=item_ids)
        ItemMaterial.objects.filter(version__in=own).delete()
        items.update(current_version=None)
        own.delete()
        items.delete()
    return len(item_ids)
