"""The search is served by the GIN index at 10,000+ items: no sequential scan of the item table.

The 10,000 generated items (names cycling through the demo catalogue, each with its own
version and materials, vectors computed as at publish) are built once for the module
(``shared_data``). Each test runs the real search page or search API and replays every
statement it ran — in order, in one transaction, including the planner settings the request
itself set — under ``EXPLAIN``.
"""

import pytest

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.catalog.models import ItemVersion, ServiceItem
from apps.catalog.selectors import INDEX_ONLY_SETTINGS
from bench.catalog_data import generate_items
from tests.catalog.conftest import shared_data
from tests.catalog.factories import published_item
from tests.catalog.test_search import QUALITY_PAIRS
from tests.core.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

N_ITEMS = 10_000
GIN = "catalog_item_search_gin"
# Broad one-word terms: each matches a large share of the catalogue (登记 ≈ 30 %), where the
# planner on its own prefers a sequential scan.
BROAD = ["登记", "许可", "证", "申请", "办理证明"]


@pytest.fixture(scope="module")
def large_catalogue(django_db_setup, django_db_blocker):
    with shared_data(django_db_blocker):
        department = DepartmentFactory(name="江西省市场监督管理局")
        _, version = published_item(department)
        generate_items(n=N_ITEMS, department=department, version=version)
        yield department


def _run(client, path: str, params: dict[str, str]) -> tuple[list[str], dict]:
    """The statements one request ran, and its response."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries], response


def _replay(statements: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(statement, plan) of every statement reading the item table, planned as in the request:
    the request's own settings statement runs again at the same point and ends where the
    request's transaction ended. Returns the plans inside the search transaction and those
    outside it (the page's other statements, e.g. the filter lists)."""
    inside: list[tuple[str, str]] = []
    outside: list[tuple[str, str]] = []
    searching = False
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            if sql == INDEX_ONLY_SETTINGS:
                cursor.execute("SAVEPOINT replay_search")
                cursor.execute(sql)
                searching = True
                continue
            if sql.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")):
                if searching and sql.startswith(("COMMIT", "RELEASE SAVEPOINT")):
                    cursor.execute("ROLLBACK TO SAVEPOINT replay_search")  # settings end
                    searching = False
                continue
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            if "catalog_serviceitem" in plan:
                (inside if searching else outside).append((sql, plan))
        transaction.set_rollback(True)
    return inside, outside


def _scans(plans: list[tuple[str, str]]) -> list[str]:
    return [plan for _, plan in plans if "Seq Scan on catalog_serviceitem" in plan]


def _not_served_by_the_index(plans: list[tuple[str, str]]) -> list[str]:
    """Plans reading the item table other than through the GIN index: a sequential scan, or a
    full walk of another of its indexes."""
    return [
        plan
        for sql, plan in plans
        # The page's rows, fetched by their 20 version ids when not cached yet (issue 15 §1).
        if '"catalog_serviceitem"."current_version_id" IN (' not in sql
        and (
            GIN not in plan
            or "Seq Scan on catalog_serviceitem" in plan
            or "Index Scan using catalog_serviceitem" in plan
            or "Index Only Scan using catalog_serviceitem" in plan
        )
    ]


def _api(client, query: str, **filters: str) -> tuple[list[tuple[str, str]], dict]:
    statements, response = _run(client, "/api/v1/catalog/items/", {"search": query, **filters})
    assert INDEX_ONLY_SETTINGS in statements  # the request set the planner settings itself
    inside, outside = _replay(statements)
    assert outside == []  # the API runs every statement of a search inside the transaction
    return inside, response.json()


def test_catalogue_has_ten_thousand_items_with_versions_of_their_own(large_catalogue) -> None:
    generated = ServiceItem.objects.filter(department=large_catalogue, status="published")
    assert generated.count() == N_ITEMS + 1
    assert ItemVersion.objects.filter(department=large_catalogue).count() == N_ITEMS + 1
    assert generated.values("current_version").distinct().count() == N_ITEMS + 1


@pytest.mark.parametrize(
    ("_case", "query"),
    [
        ("chinese_words", "食品经营许可"),
        ("synonym", "开饭店"),
        ("pinyin", "huzhao"),
        ("initials", "sbk"),
        ("one_character_typo_broad_fallback", "教师资恪"),
        ("nonsense_broad_fallback", "鑫鑫鑫"),
        *(("broad_one_word_term", term) for term in BROAD),
    ],
)
def test_search_api_reads_the_item_table_only_through_the_gin_index(
    client, large_catalogue, _case, query
) -> None:
    # when
    plans, body = _api(client, query)
    # then: the tier probes, the ranked page and the count all read the item table, each
    # through the GIN index and through nothing else
    assert len(plans) >= 2
    assert _not_served_by_the_index(plans) == []
    expected = 0 if _case.startswith("nonsense") else 20
    assert len(body["results"]) == expected
    if _case == "broad_one_word_term":
        assert body["count"] > 200  # broad indeed: hundreds of matches ranked
        assert all(r["materials"] for r in body["results"])  # each version's own materials


@pytest.mark.parametrize("query", ["登记", "许可", "护照", "hz"])
def test_search_page_reads_the_item_table_only_through_the_gin_index(
    client, large_catalogue, query
) -> None:
    statements, response = _run(client, reverse("catalog:search"), {"q": query})
    assert INDEX_ONLY_SETTINGS in statements
    plans, others = _replay(statements)
    assert len(plans) >= 2
    assert _not_served_by_the_index(plans) == []
    # the page's other statements on the item table (departments and regions that have items,
    # for the filters) do not scan it either
    assert _scans(others) == []
    assert len(response.context["page"].object_list) == 20


def test_no_quality_query_scans_the_item_table(client, large_catalogue) -> None:
    scanned = [
        query for query, _ in QUALITY_PAIRS if _not_served_by_the_index(_api(client, query)[0])
    ]
    assert scanned == []


def test_filtered_search_still_uses_the_index(client, large_catalogue) -> None:
    plans, body = _api(
        client, "登记", region=large_catalogue.region.code, audience="person", item_type="07"
    )
    assert _not_served_by_the_index(plans) == []
    assert len(body["results"]) == 20
    assert {r["item_type"] for r in body["results"]} == {"07"}
