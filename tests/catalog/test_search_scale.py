"""The search is served by the GIN index at 10,000+ items: no sequential scan of the item table.

The 10,000 generated items (names cycling through the demo catalogue, vectors computed as at
publish) are built once for the module (``shared_data``).
"""

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog import selectors
from apps.catalog.models import ServiceItem
from bench.catalog_data import generate_items
from tests.catalog.conftest import shared_data
from tests.catalog.factories import published_item
from tests.catalog.test_search import QUALITY_PAIRS
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


def _plans(query: str, **filters: str) -> tuple[list[str], int]:
    """EXPLAIN of every statement a search page runs: tier probes, ranked page, count."""
    base = selectors.filter_items(selectors.published_items(), **filters)
    with CaptureQueriesContext(connection) as queries:
        items = selectors.search_items(query, base=base).items
        found = len(list(items[:20]))
        assert items.count() >= found  # the COUNT(*) a paginated page runs
    plans = []
    with connection.cursor() as cursor:
        for statement in queries.captured_queries:
            cursor.execute(f"EXPLAIN {statement['sql']}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans, found


def _scans(plans: list[str]) -> bool:
    return any("Seq Scan on catalog_serviceitem" in plan for plan in plans)


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
    plans, found = _plans(query)
    # then: every statement reaches the item table through the GIN index, none scans it
    assert all("catalog_item_search_gin" in plan for plan in plans), plans
    assert not _scans(plans), plans
    assert found == (0 if _case.startswith("nonsense") else 20)


def test_no_quality_query_scans_the_item_table(large_catalogue) -> None:
    scanned = [query for query, _ in QUALITY_PAIRS if _scans(_plans(query)[0])]
    assert scanned == []


def test_filtered_search_still_uses_the_index(large_catalogue) -> None:
    plans, found = _plans("身份证", region_code=large_catalogue.region.code, audience="person")
    assert not _scans(plans), plans
    assert found == 20
