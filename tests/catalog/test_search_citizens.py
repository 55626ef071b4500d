"""Search as citizens use it, over the demo catalogue: the citizen's own region first with the
other implementations of the same item grouped under it, what people type when a card is lost
or they move to another city, and English names in the English interface."""

import pytest

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from apps.catalog import selectors
from apps.catalog.demo import load_catalog_demo
from apps.catalog.demo_items import ITEMS
from apps.catalog.places import REGION_COOKIE, arrange, places_above
from apps.core.demo import load_core_demo
from tests.catalog.conftest import shared_data
from tests.identity.factories import verified_user

pytestmark = pytest.mark.django_db

PROVINCE, CITY, COUNTY, OTHER_COUNTY = "360000", "360100", "360121", "360113"


class _Out:
    def write(self, msg: str) -> None:
        pass


@pytest.fixture(scope="module")
def demo_catalogue(django_db_setup, django_db_blocker):
    with shared_data(django_db_blocker):
        load_core_demo(stdout=_Out())
        load_catalog_demo(stdout=_Out())
        yield


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def _names(query: str, n: int = 3) -> list[str]:
    with selectors.search_transaction():
        items = selectors.search_items(query).items[:n]
        return [item.current_version.name for item in items]


def _groups(client, query: str, **cookies: str):
    for name, value in cookies.items():
        client.cookies[name] = value
    response = client.get(reverse("catalog:search"), {"q": query})
    assert response.status_code == 200
    return response, list(response.context["page"].object_list)


# --- ranking and the items citizens expect -----------------------------------------------------


def test_a_lost_id_card_finds_replacement_before_first_application(demo_catalogue) -> None:
    names = _names("身份证丢了")
    assert names[0] == "居民身份证换领、补领"
    assert "居民身份证申领" not in names[:1]


@pytest.mark.parametrize("query", ["社保转移", "社保关系转移", "转社保", "养老保险转移"])
def test_moving_social_insurance_finds_the_pension_transfer_not_a_home_sale(
    demo_catalogue, query: str
) -> None:
    names = _names(query)
    assert names[0] == "企业职工基本养老保险关系转移接续"
    assert "不动产转移登记（二手房买卖）" not in names


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("养老保险关系转移接续", "企业职工基本养老保险关系转移接续"),
        ("医保转移", "基本医疗保险关系转移接续"),
        ("公积金转移", "住房公积金异地转移接续"),
        ("社保卡丢了", "社会保障卡补领、换领"),
        ("社保证明", "个人参保证明查询打印"),
        ("公积金缴存证明", "住房公积金缴存证明开具"),
        ("失业保险转移", "失业保险关系转移接续"),
    ],
)
def test_the_common_items_that_were_missing_are_found(
    demo_catalogue, query: str, expected: str
) -> None:
    assert _names(query)[0] == expected


# --- English names -----------------------------------------------------------------------------


def test_every_demo_item_has_an_english_name() -> None:
    assert all(template.name_en for template in ITEMS)
    assert len({template.name_en for template in ITEMS}) == len(ITEMS)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("passport", "普通护照签发"),
        ("lost ID card", "居民身份证换领、补领"),
        ("marriage registration", "内地居民结婚登记"),
        ("pension transfer", "企业职工基本养老保险关系转移接续"),
        ("food business licence", "食品经营许可"),
    ],
)
def test_english_queries_find_items_by_their_english_names(
    demo_catalogue, query: str, expected: str
) -> None:
    assert _names(query)[0] == expected


def test_the_english_interface_shows_and_searches_english_names(client, demo_catalogue) -> None:
    client.cookies["django_language"] = "en"
    response, groups = _groups(client, "passport")
    assert groups[0].first.current_version.name_zh == "普通护照签发"
    page = response.content.decode()
    assert "Passport application" in page
    with translation.override("en"):
        assert groups[0].first.current_version.name == "Passport application"


# --- the citizen's region first, the other implementations grouped -------------------------------


def test_places_above_are_most_local_first() -> None:
    assert places_above(COUNTY) == [COUNTY, CITY, PROVINCE]
    assert places_above(CITY) == [CITY, PROVINCE]
    assert places_above("abc") == []


def test_one_result_per_item_with_every_implementation_under_it(client, demo_catalogue) -> None:
    _, groups = _groups(client, "社会保障卡申领")
    first = groups[0]
    assert first.first.current_version.name_zh == "社会保障卡申领"
    codes = [first.first.department.region_code, *(r.department.region_code for r in first.others)]
    # province, city and both counties implement it: one result, four departments
    assert sorted(codes) == sorted([PROVINCE, CITY, COUNTY, OTHER_COUNTY])
    basic_codes = [g.first.current_version.basic_code for g in groups]
    assert len(basic_codes) == len(set(basic_codes))  # no item twice
    # nobody's region known: the province's implementation first, not marked local
    assert first.first.department.region_code == PROVINCE
    assert not first.is_local


@pytest.mark.parametrize(
    ("region", "expected"),
    [(COUNTY, COUNTY), (OTHER_COUNTY, OTHER_COUNTY), (CITY, CITY), (PROVINCE, PROVINCE)],
)
def test_the_chosen_region_is_shown_first(client, demo_catalogue, region, expected) -> None:
    response, groups = _groups(client, "社会保障卡申领", **{REGION_COOKIE: region})
    first = groups[0]
    assert first.first.department.region_code == expected
    assert first.is_local
    assert len(first.others) == 3
    page = response.content.decode()
    results = page[page.index('<ul class="item-list">') :]
    assert "您所在地区" in results
    assert results.index(first.first.department.name) < results.index(
        first.others[0].department.name
    )


def test_a_county_without_the_item_falls_back_to_its_city(client, demo_catalogue) -> None:
    # 居民身份证换领、补领 is implemented by the city and the two county public security bureaus;
    # 不动产登记 only by the province and the city: a county resident gets the city's.
    _, groups = _groups(client, "不动产登记（首次登记）", **{REGION_COOKIE: COUNTY})
    assert groups[0].first.department.region_code == CITY
    assert groups[0].is_local


def test_a_signed_in_person_gets_their_household_region_first(client, demo_catalogue) -> None:
    user = verified_user()
    user_record = user.person.id_number_index
    from apps.identity.models import PopulationRecord

    PopulationRecord.objects.filter(id_number_index=user_record).update(
        household_region=OTHER_COUNTY
    )
    client.force_login(user)
    _, groups = _groups(client, "社会保障卡申领")
    assert groups[0].first.department.region_code == OTHER_COUNTY
    # a region chosen on the page wins over the registry's
    _, groups = _groups(client, "社会保障卡申领", **{REGION_COOKIE: CITY})
    assert groups[0].first.department.region_code == CITY


def test_choosing_a_region_remembers_it_in_a_cookie(client, demo_catalogue) -> None:
    url = reverse("catalog:choose-region")
    response = client.post(url, {"region": COUNTY, "next": "/catalog/search/?q=sbk"})
    assert response.status_code == 302
    assert response["Location"] == "/catalog/search/?q=sbk"
    assert response.cookies[REGION_COOKIE].value == COUNTY
    assert response.cookies[REGION_COOKIE]["httponly"]
    # an unknown region or an empty choice forgets it; a foreign next goes to the search page
    response = client.post(url, {"region": "999999", "next": "https://evil.example/"})
    assert response["Location"] == "/catalog/search/"
    assert response.cookies[REGION_COOKIE].value == ""
    assert client.get(url).status_code == 405


def test_arrange_keeps_the_given_order_without_a_region(client, demo_catalogue) -> None:
    _, groups = _groups(client, "社会保障卡申领")
    rows = [groups[0].first, *groups[0].others]
    assert arrange(rows, "").first == rows[0]
    assert arrange(list(reversed(rows)), COUNTY).first.department.region_code == COUNTY


# --- cost -------------------------------------------------------------------------------------


def test_search_page_query_counts(client, demo_catalogue, django_assert_max_num_queries) -> None:
    url = reverse("catalog:search")
    # cold: themes, departments, regions; twice the search transaction (SAVEPOINT, planner
    # settings, RELEASE) around the tier probes, the page of groups and their count; the rows
    with django_assert_max_num_queries(16):
        client.get(url, {"q": "社保卡"})
    # warm, anonymous, with a chosen region: everything from the cache
    client.cookies[REGION_COOKIE] = COUNTY
    with django_assert_max_num_queries(0):
        assert client.get(url, {"q": "社保卡"}).status_code == 200
    # signed in without a chosen region: the session, the user and the household region
    del client.cookies[REGION_COOKIE]
    client.force_login(verified_user())
    with CaptureQueriesContext(connection) as queries:
        client.get(url, {"q": "社保卡"})
    with django_assert_max_num_queries(len(queries)):
        client.get(url, {"q": "社保卡"})
    assert len(queries) <= 4
