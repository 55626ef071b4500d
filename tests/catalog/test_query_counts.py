"""Query counts of the catalogue's list and detail endpoints and pages do not grow with the
number of rows shown (STYLE.md Q8): a page of 3 and a page of 25 cost the same queries.

The data (published items with materials in two departments) is built once for the module
(``shared_data``).
"""

import pytest

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from apps.catalog.services import publish_item, update_item
from tests.catalog.conftest import shared_data
from tests.catalog.factories import published_item, superuser
from tests.core.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

FEW, MANY = 3, 25


@pytest.fixture(scope="module")
def catalogue(django_db_setup, django_db_blocker):
    with shared_data(django_db_blocker):
        small = DepartmentFactory(name="江西省档案局")
        large = DepartmentFactory(name="江西省公安厅")
        items = [published_item(small, name="档案查询利用")[0] for _ in range(FEW)]
        items += [published_item(large, name="居民身份证申领")[0] for _ in range(MANY)]
        # the last item gets a second version
        actor = superuser()
        update_item(actor=actor, item_id=items[-1].pk, fields={"keywords": "第二版"})
        publish_item(actor=actor, item_id=items[-1].pk)
        yield {"small": small, "large": large, "item": items[-1]}


def _count(client, url: str, params: dict, *, cold: bool = True) -> tuple[int, object]:
    """Queries of one request; ``cold`` empties the cache first (apps.catalog.cache)."""
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries), response


def test_public_list_page_cost_does_not_grow_with_page_size(
    catalogue, django_assert_max_num_queries
) -> None:
    client = APIClient()
    url = "/api/v1/catalog/items/"
    # cold: COUNT(*); the page's version ids; the rows' items (+ department, region); current
    # versions, their materials and variants, and the items' versions (4 prefetches)
    with django_assert_max_num_queries(7):
        few, response = _count(client, url, {"page_size": FEW})
    assert len(response.json()["results"]) == FEW
    many, response = _count(client, url, {"page_size": MANY})
    assert len(response.json()["results"]) == MANY
    assert few == many
    # warm: count, ids and serialised rows all come from the cache
    with django_assert_max_num_queries(0):
        _, again = _count(client, url, {"page_size": MANY}, cold=False)
    assert again.json() == response.json()


def test_public_search_page_cost_does_not_grow_with_page_size(
    catalogue, django_assert_max_num_queries
) -> None:
    client = APIClient()
    url = "/api/v1/catalog/items/"
    # cold, three search transactions (SAVEPOINT here, BEGIN in production; planner settings;
    # RELEASE): the count (probe for three strict matches, COUNT(*)); the ranked page's ids
    # (probe, page); the rows (items, current versions, materials, variants, versions)
    with django_assert_max_num_queries(18):
        few, response = _count(client, url, {"search": "身份证", "page_size": FEW})
    assert len(response.json()["results"]) == FEW
    many, response = _count(client, url, {"search": "身份证", "page_size": MANY})
    assert len(response.json()["results"]) == MANY
    assert few == many
    # warm: count, ids and rows all from the cache, no transaction opened
    with django_assert_max_num_queries(0):
        _, again = _count(client, url, {"search": "身份证", "page_size": MANY}, cold=False)
    assert again.json() == response.json()


def test_public_detail(catalogue, django_assert_max_num_queries) -> None:
    item = catalogue["item"]
    # the item (+ current version, department, region); materials, variants, versions
    with django_assert_max_num_queries(4):
        response = APIClient().get(f"/api/v1/catalog/items/{item.implementation_code}/")
    assert response.status_code == 200
    assert len(response.json()["materials"]) == 2
    assert [v["version"] for v in response.json()["versions"]] == [2, 1]


@pytest.mark.parametrize(
    ("_case", "url_name", "params"),
    [
        ("browse_by_department", "catalog:index", {"department": "{uscc}"}),
        ("search", "catalog:search", {"q": "{name}", "department": "{uscc}"}),
    ],
)
def test_pages_cost_the_same_for_few_and_for_a_full_page(
    client, catalogue, django_assert_max_num_queries, _case, url_name, params
) -> None:
    counts = []
    for department, name in ((catalogue["small"], "档案"), (catalogue["large"], "身份证")):
        values = {k: v.format(uscc=department.uscc, name=name) for k, v in params.items()}
        # cold: themes; departments; regions; browse: the catalogue counted by every choice
        # (three grouped queries, instead of a COUNT(*) per filter), the page's version ids,
        # their rows; search: COUNT(*), ids and rows, twice the transaction (SAVEPOINT,
        # planner settings, RELEASE SAVEPOINT) and the probe for three strict matches;
        # nothing per row
        with django_assert_max_num_queries(14 if _case == "search" else 8):
            count, response = _count(client, reverse(url_name), values)
        assert name in response.content.decode()
        counts.append(count)
        # warm: all from the cache
        with django_assert_max_num_queries(0):
            _count(client, reverse(url_name), values, cold=False)
    assert counts[0] == counts[1]


def test_guide_page(client, catalogue, django_assert_max_num_queries) -> None:
    item = catalogue["item"]
    # cold: the item's version and status; the item (+ version, department, region);
    # materials; variants; themes; windows (+ hall); versions
    with django_assert_max_num_queries(8):
        response = client.get(reverse("catalog:item-detail", args=[item.implementation_code]))
    assert response.status_code == 200
    # warm: the whole shared page from the cache; a repeat visit with its ETag gets 304
    with django_assert_max_num_queries(0):
        again = client.get(reverse("catalog:item-detail", args=[item.implementation_code]))
    assert again.content == response.content
    etag = again["ETag"]
    with django_assert_max_num_queries(0):
        same = client.get(
            reverse("catalog:item-detail", args=[item.implementation_code]),
            HTTP_IF_NONE_MATCH=etag,
        )
    assert same.status_code == 304
