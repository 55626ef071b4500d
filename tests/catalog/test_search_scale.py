"""The search is served by the GIN index at 10,000+ items: no sequential scan of the item table.

The 10,000 generated items (names cycling through the demo catalogue, vectors computed as at
publish) are built once for the module (``shared_data``).
"""

import pytest

from apps.catalog import selectors
from apps.catalog.models import ServiceItem
from bench.catalog_data import generate_items
from tests.catalog.conftest import shared_data
from tests.catalog.factories import published_item
from tests.core.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

N_ITEMS = 10_000


@pytest.fixture(scope="module")
def large_catalogue(django_db_setup, django_db_blocker):
    with shared_data(django_db_blocker):
        department = DepartmentFactory(name="江西省市场监督管理局")
        _, version = published_item(department)
        generate_items(n=N_ITEMS, department=department, version=version)
        yield department


def _plan(query: str, **filters: str) -> tuple[str, int]:
    base = selectors.filter_items(selectors.published_items(), **filters)
    queryset = selectors.search_items(query, base=base).items[:20]
    return queryset.explain(), len(list(queryset))


def test_catalogue_has_ten_thousand_items(large_catalogue) -> None:
    assert ServiceItem.objects.filter(status="published").count() == N_ITEMS + 1


@pytest.mark.parametrize(
    ("_case", "query"),
    [
        ("chinese_words", "食品经营许可"),
        ("synonym", "开饭店"),
        ("pinyin", "huzhao"),
        ("initials", "sbk"),
        ("one_character_typo_broad_fallback", "教师资恪"),
        ("nonsense_broad_fallback", "鑫鑫鑫"),
    ],
)
def test_search_uses_the_gin_index_not_a_seq_scan(large_catalogue, _case, query) -> None:
    # when
    plan, found = _plan(query)
    # then: the item table is reached through the GIN index, never scanned
    assert "catalog_item_search_gin" in plan, plan
    assert "Seq Scan on catalog_serviceitem" not in plan, plan
    assert found == (0 if _case.startswith("nonsense") else 20)


def test_filtered_search_still_uses_the_index(large_catalogue) -> None:
    plan, found = _plan("身份证", region_code=large_catalogue.region.code, audience="person")
    assert "Seq Scan on catalog_serviceitem" not in plan, plan
    assert found == 20
