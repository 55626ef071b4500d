"""Search quality over the demo catalogue (loaded once for the module)."""

import pytest

from apps.catalog import search, selectors
from apps.catalog.demo import load_catalog_demo
from apps.core.demo import load_core_demo
from tests.catalog.conftest import shared_data

pytestmark = pytest.mark.django_db

# query → expected item name in the top 3 (Chinese words, pinyin, initials, synonyms, typos).
QUALITY_PAIRS: list[tuple[str, str]] = [
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
]
# one-character typos: (typed, meant, expected item)
TYPOS: list[tuple[str, str, str]] = [
    ("护招", "护照", "普通护照签发"),
    ("食品经营许口", "食品经营许可", "食品经营许可"),
    ("营业执找", "营业执照", "营业执照（企业设立登记）"),
    ("社保咔", "社保卡", "社会保障卡申领"),
    ("居民身分证", "居民身份证", "居民身份证申领"),
    ("结昏登记", "结婚登记", "内地居民结婚登记"),
    ("公积今提取", "公积金提取", "住房公积金提取（购房）"),
    # not homophones: a look-alike character
    ("教师资恪", "教师资格", "教师资格认定"),
    ("排污许司证", "排污许可证", "排污许可证核发"),
]
QUALITY_PAIRS += [(typed, expected) for typed, _, expected in TYPOS]


class _Out:
    def write(self, msg: str) -> None:
        pass


@pytest.fixture(scope="module")
def demo_catalogue(django_db_setup, django_db_blocker):
    """The demo catalogue, loaded twice (the second load must change nothing)."""
    with shared_data(django_db_blocker):
        load_core_demo(stdout=_Out())
        first = load_catalog_demo(stdout=_Out())
        second = load_catalog_demo(stdout=_Out())
        yield first, second


def _top3(query: str) -> list[str]:
    """The names of the first three result rows, as a citizen sees them (several departments
    implementing the same item are several rows)."""
    with selectors.search_transaction():
        return [item.current_version.name for item in selectors.search_items(query).items[:3]]


def test_demo_catalogue_is_complete_and_idempotent(demo_catalogue) -> None:
    first, second = demo_catalogue
    # at least 200 items over at least 20 departments at three levels
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


def test_quality_pairs_cover_every_kind_of_query() -> None:
    queries = [query for query, _ in QUALITY_PAIRS]
    assert len(QUALITY_PAIRS) >= 30
    assert len(set(queries)) == len(queries)
    latin = [q for q in queries if q.isascii()]
    assert len([q for q in latin if len(q) <= 4]) >= 3  # initials
    assert len([q for q in latin if len(q) > 4]) >= 3  # full pinyin
    assert len(TYPOS) >= 5
    for typed, meant, _ in TYPOS:
        assert len(typed) == len(meant)
        assert sum(a != b for a, b in zip(typed, meant, strict=True)) == 1, typed


@pytest.mark.parametrize(("query", "expected"), QUALITY_PAIRS)
def test_search_quality(demo_catalogue, query: str, expected: str) -> None:
    assert expected in _top3(query)


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


@pytest.mark.parametrize(("query", "expected"), QUALITY_PAIRS)
def test_sqlite_demo_search_finds_the_same(demo_catalogue, query: str, expected: str) -> None:
    """The zero-setup SQLite demo has no tsvector; its Python matching keeps the search page's
    promise (pinyin, initials, synonyms, typos) over the demo catalogue."""
    items = selectors.search_in_python(selectors.published_items(), search.parse_query(query))
    assert expected in [item.current_version.name for item in items[:3]]
