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


def _index_count(client, params: dict) -> str:
    html = client.get(reverse("catalog:index"), params).content.decode()
    return html.split('<p class="secondary">', 1)[1].split("</p>", 1)[0].strip()


def _filter_counts(**filters: str) -> tuple[int | None, int]:
    """(precomputed count, the count a query of the filtered items finds)."""
    from apps.catalog import selectors

    counted = selectors.browse_counts().count(**filters)
    return counted, selectors.filter_items(selectors.published_items(), **filters).count()


def test_browse_counts_follow_publish_suspend_resume_and_retire(client) -> None:
    from apps.catalog.services import resume_item, suspend_item

    # given: two published items of one department, one of them under 出生 (birth)
    department = DepartmentFactory()
    born, _ = published_item(department, name="出生登记")
    update_item(actor=superuser(), item_id=born.pk, theme_codes=["birth"])
    publish_item(actor=superuser(), item_id=born.pk)
    published_item(department, name="档案查询利用")
    by_department = {"department": department.uscc}
    assert _index_count(client, by_department) == "共 2 个事项"
    assert _index_count(client, {"event": "birth"}) == "共 1 个事项"
    # when: a third is published, then the birth item suspended
    third, _ = published_item(department, name="档案查阅")
    # then
    assert _index_count(client, by_department) == "共 3 个事项"
    suspend_item(actor=superuser(), item_id=born.pk, reason="系统升级")
    assert _index_count(client, by_department) == "共 2 个事项"
    assert _index_count(client, {"event": "birth"}) == "共 0 个事项"
    resume_item(actor=superuser(), item_id=born.pk)
    assert _index_count(client, {"event": "birth"}) == "共 1 个事项"
    # when: one is retired
    retire_item(actor=superuser(), item_id=third.pk, reason="职能调整")
    # then
    assert _index_count(client, by_department) == "共 2 个事项"
    assert _index_count(client, {}) == "共 2 个事项"


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"theme": "birth"},
        {"theme": "no-such-theme"},
        {"department": "{uscc}"},
        {"region_code": "{region}"},
        {"region_code": "{county}"},
        {"level": "{level}"},
        {"level": "x"},
        {"item_type": "{item_type}"},
        {"audience": "person"},
        {"audience": "enterprise"},
        {"audience": "other"},
    ],
)
def test_precomputed_counts_equal_the_filtered_count(filters) -> None:
    # given: items of a province, a city and a county department, one retired
    from apps.core.models import AdministrativeLevel, Region, RegionLevel

    province = DepartmentFactory()
    region = province.region
    county_region = Region.objects.create(
        code=region.code[:4] + "02", name="某县", level=RegionLevel.COUNTY, parent=region
    )
    county = DepartmentFactory(region=county_region, level=AdministrativeLevel.COUNTY)
    item, version = published_item(province, name="出生登记")
    update_item(actor=superuser(), item_id=item.pk, theme_codes=["birth"])
    publish_item(actor=superuser(), item_id=item.pk)
    published_item(county, name="档案查询利用")
    retired, _ = published_item(county, name="档案查阅")
    retire_item(actor=superuser(), item_id=retired.pk, reason="职能调整")
    values = {
        "uscc": province.uscc,
        "region": region.code,
        "county": county_region.code,
        "level": str(int(province.level)),
        "item_type": version.item_type,
    }
    chosen = {name: value.format(**values) for name, value in filters.items()}
    # when
    counted, queried = _filter_counts(**chosen)
    # then
    assert counted == queried


def test_a_combination_of_filters_is_counted_by_a_query(client) -> None:
    department = DepartmentFactory()
    published_item(department, name="档案查询利用")
    level = str(int(department.level))
    counted, queried = _filter_counts(department=department.uscc, level=level)
    assert counted is None
    params = {"department": department.uscc, "level": level}
    assert _index_count(client, params) == f"共 {queried} 个事项"


def test_cached_page_content_is_shared_but_the_masthead_is_each_visitors_own(client, clerk) -> None:
    # given: the catalogue page rendered for an anonymous visitor (its content now cached)
    published_item(DepartmentFactory(), name="档案查询利用")
    anonymous = client.get(reverse("catalog:search"), {"q": "档案", "utm": "x"}).content.decode()
    # when: a clerk opens the same page
    client.force_login(clerk)
    signed_in = client.get(reverse("catalog:search"), {"q": "档案"}).content.decode()
    # then: the same results, the clerk's own masthead, no invented parameter in links
    assert "档案查询利用" in anonymous
    assert "档案查询利用" in signed_in
    assert "退出登录" in signed_in
    assert "退出登录" not in anonymous
    assert "utm" not in anonymous.split('<div class="page__content">', 1)[1]
