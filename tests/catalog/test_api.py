"""Public catalogue API: the search contract, filters, detail (query counts: test_query_counts)."""

import pytest

from rest_framework.test import APIClient

from tests.catalog.factories import published_item

pytestmark = pytest.mark.django_db


def test_search_contract_best_match_first(department) -> None:
    # given
    published_item(department, name="普通护照签发", keywords="出国")
    published_item(department, name="居民身份证申领")
    # when
    response = APIClient().get("/api/v1/catalog/items/", {"search": "hz"})
    # then
    assert response.status_code == 200
    first = response.json()["results"][0]
    assert first["name"] == "普通护照签发"
    assert first["code"].startswith(department.uscc)
    assert [m["key"] for m in first["materials"]] == ["id-card", "application"]
    assert first["versions"][0]["version"] == 1


def test_filters_by_department_and_audience(department, other_department) -> None:
    item, _ = published_item(department, service_objects=["1"])
    published_item(other_department, service_objects=["2"])
    client = APIClient()
    by_department = client.get("/api/v1/catalog/items/", {"department": department.uscc}).json()
    assert [r["code"] for r in by_department["results"]] == [item.implementation_code]
    enterprise = client.get("/api/v1/catalog/items/", {"audience": "enterprise"}).json()
    assert [r["department"]["uscc"] for r in enterprise["results"]] == [other_department.uscc]


def test_detail_shows_the_published_version_not_the_draft(department) -> None:
    from apps.catalog.services import update_item
    from tests.catalog.factories import superuser

    item, _ = published_item(department, name="已发布名称")
    update_item(actor=superuser(), item_id=item.pk, fields={"name": "草稿名称"})
    response = APIClient().get(f"/api/v1/catalog/items/{item.implementation_code}/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "已发布名称"
    assert body["elements"]["process_steps"][0]["name"] == "受理"
    assert APIClient().get("/api/v1/catalog/items/NOPE/").status_code == 404
