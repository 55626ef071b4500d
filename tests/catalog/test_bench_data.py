"""The generated catalogue of the search bench and the EXPLAIN test (bench/catalog_data.py)."""

import pytest

from django.db.models import F

from apps.catalog.models import ItemMaterial, ItemVersion, ServiceItem
from bench.catalog_data import delete_generated_items, generate_items, generated_items
from tests.catalog.factories import published_item

pytestmark = pytest.mark.django_db


def test_generated_items_have_versions_and_materials_of_their_own(department) -> None:
    # given
    base, version = published_item(department)
    # when
    generate_items(n=30, department=department, version=version)
    # then: each generated item is published on a version of its own, with its materials
    generated = generated_items(department)
    assert generated.count() == 30
    assert generated.filter(current_version__item=F("pk")).count() == 30
    assert generated.filter(published_name=F("current_version__name")).count() == 30
    materials = ItemMaterial.objects.filter(version__item__in=generated)
    assert materials.values("version").distinct().count() == 30
    assert base not in generated


def test_generated_items_can_be_deleted_with_their_immutable_versions(department) -> None:
    # given: a bench database holding generated items (versions are immutable by trigger)
    base, version = published_item(department)
    generate_items(n=12, department=department, version=version)
    # when
    deleted = delete_generated_items(department)
    # then: the generated items, versions and materials are gone; the base item is intact
    assert deleted == 12
    assert not generated_items(department).exists()
    assert list(ItemVersion.objects.values_list("item", flat=True)) == [base.pk]
    assert ServiceItem.objects.get(pk=base.pk).current_version == version
    assert ItemMaterial.objects.filter(version=version).count() == 2
