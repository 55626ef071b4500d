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


def _codes(params: dict[str, str]) -> list[str]:
    response = APIClient().get("/api/v1/catalog/items/", params)
    assert response.status_code == 200
    return sorted(r["code"] for r in response.json()["results"])


def _two_regions() -> tuple:
    """A city department (南昌市) and a county department of another city (九江 濂溪区)."""
    from apps.core.models import AdministrativeLevel, RegionLevel
    from tests.core.factories import DepartmentFactory, RegionFactory

    province = RegionFactory()
    nanchang = RegionFactory(code="360100", name="南昌市", level=RegionLevel.CITY, parent=province)
    jiujiang = RegionFactory(code="360400", name="九江市", level=RegionLevel.CITY, parent=province)
    lianxi = RegionFactory(code="360402", name="濂溪区", level=RegionLevel.COUNTY, parent=jiujiang)
    city = DepartmentFactory(region=nanchang, level=AdministrativeLevel.CITY)
    county = DepartmentFactory(region=lianxi, level=AdministrativeLevel.COUNTY)
    return city, county


def test_filters_by_type_region_and_code(department) -> None:
    # given: a licensing item and a public-service item in two regions
    city, county = _two_regions()
    licence, _ = published_item(city, item_type="01", name="食品经营许可")
    service, _ = published_item(county, item_type="20", name="食品安全咨询")
    # then: each filter keeps one and excludes the other
    assert _codes({"item_type": "01"}) == [licence.implementation_code]
    assert _codes({"item_type": "20"}) == [service.implementation_code]
    assert _codes({"region": "360100"}) == [licence.implementation_code]
    assert _codes({"region": "360402"}) == [service.implementation_code]  # county + its city
    assert _codes({"code": licence.implementation_code}) == [licence.implementation_code]
    assert _codes({"code": service.basic_code}) == [service.implementation_code]
    assert _codes({"code": "NOPE"}) == []
    assert _codes({"level": "3"}) == [licence.implementation_code]  # city departments
    assert _codes({"level": "4"}) == [service.implementation_code]  # county departments
    # and combined with a search
    assert _codes({"search": "食品", "region": "360402"}) == [service.implementation_code]
    assert _codes({"search": "食品", "item_type": "01"}) == [licence.implementation_code]


def test_region_and_audience_filters_exclude_items_from_a_search() -> None:
    # given: the same search term in two regions and for two audiences
    city, county = _two_regions()
    person_city, _ = published_item(city, name="护照签发", service_objects=["1"])
    firm_city, _ = published_item(city, name="护照代办企业备案", service_objects=["2"])
    person_county, _ = published_item(county, name="护照加注", service_objects=["1"])
    # then
    assert _codes({"search": "护照"}) == sorted(
        i.implementation_code for i in (person_city, firm_city, person_county)
    )
    assert _codes({"search": "护照", "region": "360100"}) == sorted(
        i.implementation_code for i in (person_city, firm_city)
    )
    assert _codes({"search": "护照", "audience": "person"}) == sorted(
        i.implementation_code for i in (person_city, person_county)
    )
    assert _codes({"search": "护照", "region": "360100", "audience": "enterprise"}) == [
        firm_city.implementation_code
    ]


def test_an_unpublished_draft_edit_changes_no_public_filter_or_ranking(department) -> None:
    from apps.catalog.services import update_item
    from tests.catalog.factories import superuser

    # given: two published items; the second's name is the exact query
    first, _ = published_item(department, item_type="01", name="护照签发（首次申领）")
    second, _ = published_item(department, item_type="01", name="护照签发")
    before = [
        r["code"]
        for r in APIClient().get("/api/v1/catalog/items/", {"search": "护照签发"}).json()["results"]
    ]
    assert before == [second.implementation_code, first.implementation_code]
    # when: drafts change the type, the basic code and the names, and are not published
    old_basic = first.basic_code
    update_item(
        actor=superuser(),
        item_id=first.pk,
        fields={"item_type": "20", "basic_code": "999999999999", "name": "护照签发"},
    )
    update_item(actor=superuser(), item_id=second.pk, fields={"name": "护照签发（草稿）"})
    # then: the public filters and the ranking still read the published versions
    assert _codes({"item_type": "20"}) == []
    assert first.implementation_code in _codes({"item_type": "01"})
    assert _codes({"code": "999999999999"}) == []
    assert _codes({"code": old_basic}) == [first.implementation_code]
    after = [
        r["code"]
        for r in APIClient().get("/api/v1/catalog/items/", {"search": "护照签发"}).json()["results"]
    ]
    assert after == before


def test_life_event_browsing_reads_the_published_themes(department, client) -> None:
    from django.urls import reverse

    from apps.catalog.services import publish_item, update_item
    from tests.catalog.factories import superuser

    # given: an item published under 出生 (birth)
    item, _ = published_item(department, name="出生医学证明办理")
    update_item(actor=superuser(), item_id=item.pk, theme_codes=["birth"])
    publish_item(actor=superuser(), item_id=item.pk)
    # when: its draft moves it to 住房 (housing), unpublished
    update_item(actor=superuser(), item_id=item.pk, theme_codes=["housing"])
    # then: citizens still find it under birth only (API and browse page)
    assert _codes({"theme": "birth"}) == [item.implementation_code]
    assert _codes({"theme": "housing"}) == []
    page = client.get(reverse("catalog:index"), {"event": "housing"}).content.decode()
    assert "出生医学证明办理" not in page
    # and once published, under housing
    publish_item(actor=superuser(), item_id=item.pk)
    assert _codes({"theme": "housing"}) == [item.implementation_code]
    assert _codes({"theme": "birth"}) == []
