"""The read-path caches (apps.catalog.cache) follow publishing and retiring, and anonymous
pages carry no CSRF cookie and no ``Vary: Cookie`` (issue 15 §1)."""

import pytest

from django.urls import reverse
from rest_framework.test import APIClient

from apps.catalog.services import publish_item, retire_item, update_item
from tests.catalog.factories import published_item, superuser
from tests.core.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def _api_names(params: dict) -> list[str]:
    return [r["name"] for r in APIClient().get("/api/v1/catalog/items/", params).json()["results"]]


def test_publishing_a_new_version_shows_in_lists_search_and_guide(client) -> None:
    # given: a published item, its list, search and guide already cached
    department = DepartmentFactory()
    item, _ = published_item(department, name="档案查询利用")
    guide = reverse("catalog:item-detail", args=[item.implementation_code])
    assert _api_names({}) == ["档案查询利用"]
    assert _api_names({"search": "档案"}) == ["档案查询利用"]
    assert "档案查询利用" in client.get(reverse("catalog:index")).content.decode()
    first = client.get(guide)
    # when: a new version renames it
    update_item(actor=superuser(), item_id=item.pk, fields={"name": "档案查阅利用"})
    publish_item(actor=superuser(), item_id=item.pk)
    # then: every read shows the new version, and the old ETag no longer matches
    assert _api_names({}) == ["档案查阅利用"]
    assert _api_names({"search": "档案"}) == ["档案查阅利用"]
    assert "档案查阅利用" in client.get(reverse("catalog:index")).content.decode()
    second = client.get(guide, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert "档案查阅利用" in second.content.decode()


def test_retiring_removes_the_item_from_cached_reads(client) -> None:
    # given: a published item, cached in the list, the search and the guide
    department = DepartmentFactory()
    item, _ = published_item(department, name="档案查询利用")
    guide = reverse("catalog:item-detail", args=[item.implementation_code])
    assert _api_names({"search": "档案"}) == ["档案查询利用"]
    assert client.get(guide).status_code == 200
    # when
    retire_item(actor=superuser(), item_id=item.pk, reason="职能调整")
    # then
    assert _api_names({}) == []
    assert _api_names({"search": "档案"}) == []
    assert "档案查询利用" not in client.get(reverse("catalog:index")).content.decode()
    assert client.get(guide).status_code == 404


@pytest.mark.parametrize(
    ("_case", "path"),
    [("home", "/"), ("catalogue", "/catalog/"), ("search", "/catalog/search/?q=%E6%A1%A3")],
)
def test_anonymous_pages_set_no_cookie_and_do_not_vary_on_cookies(client, _case, path) -> None:
    # when: a visitor without cookies opens a public page
    response = client.get(path)
    # then
    assert response.status_code == 200
    assert response.cookies == {}
    assert "Cookie" not in response.get("Vary", "")


def test_guide_of_a_visitor_without_cookies_is_shared(client) -> None:
    item, _ = published_item(DepartmentFactory(), name="档案查询利用")
    response = client.get(reverse("catalog:item-detail", args=[item.implementation_code]))
    assert response.status_code == 200
    assert response.cookies == {}
    assert "Cookie" not in response.get("Vary", "")
    assert response["ETag"]


def test_signed_in_pages_still_vary_on_cookies(client, clerk) -> None:
    client.force_login(clerk)
    response = client.get("/catalog/")
    assert "Cookie" in response["Vary"]
