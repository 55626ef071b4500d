"""Search quality over the demo catalogue, and the index behind it."""

import pytest

from apps.catalog import search, selectors
from apps.catalog.demo import load_catalog_demo
from apps.catalog.models import ServiceItem
from apps.core.demo import load_core_demo
from bench.catalog_data import generate_items
from tests.catalog.factories import published_item

pytestmark = pytest.mark.django_db

# query → expected item name in the top 3 (Chinese words, pinyin, initials, synonyms, typos).
QUALITY_PAIRS = [
    # Chinese words
    ("身份证", "居民身份证申领"),
    ("护照", "普通护照签发"),
    ("营业执照", "营业执照（企业设立登记）"),
    ("食品经营许可", "食品经营许可"),
    ("出生医学证明", "出生医学证明办理"),
    ("社会保障卡", "社会保障卡申领"),
    ("不动产登记", "不动产登记（首次登记）"),
    ("公积金提取", "住房公积金提取（购房）"),
    ("结婚登记", "内地居民结婚登记"),
    ("异地就医", "异地就医备案"),
    ("教师资格", "教师资格认定"),
    ("排污许可证", "排污许可证核发"),
    # full pinyin and initials
    ("huzhao", "普通护照签发"),
    ("hz", "普通护照签发"),
    ("yyzz", "营业执照（企业设立登记）"),
    ("sbk", "社会保障卡申领"),
    ("shebaoka", "社会保障卡申领"),
    ("gongjijin", "住房公积金提取（购房）"),
    ("sfz", "居民身份证申领"),
    ("jiehun", "内地居民结婚登记"),
    # what citizens say (synonyms)
    ("开饭店", "食品经营许可"),
    ("开公司", "营业执照（企业设立登记）"),
    ("上户口", "出生登记（户口登记）"),
    ("房产证", "不动产登记（首次登记）"),
    ("驾照丢了", "机动车驾驶证补证"),
    ("良民证", "无犯罪记录证明开具"),
    ("看病报销", "医疗费用手工（零星）报销"),
    ("我要开药店", "药品零售企业经营许可"),
    ("办退休", "职工退休审批（基本养老金申领）"),
    ("出国", "普通护照签发"),
    # one-character typos
    ("护招", "普通护照签发"),
    ("食品经营许口", "食品经营许可"),
    ("营业执找", "营业执照（企业设立登记）"),
    ("社保咔", "社会保障卡申领"),
    ("居民身分证", "居民身份证申领"),
    ("结昏登记", "内地居民结婚登记"),
]


def _top3(query: str) -> list[str]:
    names: list[str] = []
    for item in selectors.search_items(query).items[:30]:
        if item.name not in names:
            names.append(item.name)
    return names[:3]


class _Out:
    def write(self, msg: str) -> None:
        pass


def test_demo_catalogue_and_search_quality() -> None:
    # given: the demo catalogue, loaded twice (idempotent)
    load_core_demo(stdout=_Out())
    first = load_catalog_demo(stdout=_Out())
    second = load_catalog_demo(stdout=_Out())
    # then: at least 200 items over at least 20 departments at three levels
    assert first["items_created"] >= 200
    assert second == {
        "items_created": 0,
        "items_existing": first["items_created"],
        "themes_created": 0,
    }
    published = selectors.published_items()
    assert published.count() == first["items_created"]
    assert published.values("department").distinct().count() >= 20
    assert set(published.values_list("department__level", flat=True)) == {2, 3, 4}
    # and: every query finds its item in the top 3
    misses = {q: _top3(q) for q, expected in QUALITY_PAIRS if expected not in _top3(q)}
    assert misses == {}
    assert len(QUALITY_PAIRS) >= 30


@pytest.mark.parametrize("query", ["", "   ", "!!!", "的"])
def test_empty_queries_match_nothing_without_error(query: str) -> None:
    result = selectors.search_items(query)
    assert result.query.is_empty
    assert list(result.items) == []


def test_parse_query_expands_synonyms_and_pinyin() -> None:
    parsed = search.parse_query("开饭店")
    assert "食品经营许可" in parsed.expansions
    assert "'kaifandian'" in parsed.tsquery
    assert search.parse_query("HZ").tsquery == "'hz':*"


def test_gin_index_serves_search_at_10k_items(department) -> None:
    # given: 10,000 published items
    _, version = published_item(department)
    generate_items(n=10_000, department=department, version=version)
    assert ServiceItem.objects.count() == 10_001
    # when
    queryset = selectors.search_items("食品经营许可").items[:20]
    plan = queryset.explain()
    # then: the item table is reached through the GIN index, never scanned
    assert "catalog_item_search_gin" in plan, plan
    assert "Seq Scan on catalog_serviceitem" not in plan
    assert len(list(queryset)) == 20
