"""Reads of the catalogue shared by pages, the API, other apps and tasks (STYLE.md C4)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Least
from django.http import Http404
from django.utils.translation import gettext as _

from apps.catalog import search
from apps.catalog.constants import ItemStatus, ThemeAudience
from apps.catalog.models import (
    DraftMaterial,
    DraftVariant,
    HandlingVariant,
    ItemMaterial,
    ItemVersion,
    ServiceItem,
    Theme,
)
from apps.catalog.permissions import managed_department_ids
from apps.core.exceptions import DomainError


def published_items() -> QuerySet[ServiceItem]:
    """Items a citizen can see and apply for: published, with their current version loaded."""
    return ServiceItem.objects.filter(
        status=ItemStatus.PUBLISHED, current_version__isnull=False
    ).select_related("current_version", "department", "department__region")


def visible_items() -> QuerySet[ServiceItem]:
    """Items with a public guide: published or suspended (the guide says it is suspended)."""
    return ServiceItem.objects.filter(
        status__in=[ItemStatus.PUBLISHED, ItemStatus.SUSPENDED], current_version__isnull=False
    ).select_related("current_version", "department", "department__region")


def get_item_for_apply(code: str) -> ItemVersion:
    """The current published version of the item with implementation code ``code``.

    Raises ``DomainError`` (code ``item_not_available``) when the item does not exist or is
    not open for applications (draft, suspended, retired). Cases store the returned version.
    """
    item = (
        ServiceItem.objects.filter(implementation_code=code)
        .select_related("current_version", "current_version__department")
        .first()
    )
    if item is None or not item.is_published:
        raise DomainError(_("该事项当前不可申请"), code="item_not_available")
    version = item.current_version
    assert version is not None
    return version


def version_with_children(version_id: int) -> ItemVersion:
    return (
        ItemVersion.objects.select_related("department", "item")
        .prefetch_related(
            Prefetch("materials", queryset=ItemMaterial.objects.order_by("order", "pk")),
            Prefetch("variants", queryset=HandlingVariant.objects.order_by("order", "pk")),
        )
        .get(pk=version_id)
    )


def get_public_item(code: str) -> ServiceItem:
    """A published or suspended item by implementation code, for its guide page; 404 otherwise."""
    item = (
        visible_items()
        .prefetch_related(
            Prefetch("current_version__materials", queryset=ItemMaterial.objects.order_by("order")),
            Prefetch(
                "current_version__variants", queryset=HandlingVariant.objects.order_by("order")
            ),
            "themes",
        )
        .filter(implementation_code=code)
        .first()
    )
    if item is None:
        raise Http404(_("事项不存在或未发布"))
    return item


def public_item_state(code: str) -> tuple[int, str] | None:
    """(current version id, status) of a published or suspended item, or None (no guide)."""
    rows = ServiceItem.objects.filter(
        status__in=[ItemStatus.PUBLISHED, ItemStatus.SUSPENDED],
        current_version__isnull=False,
        implementation_code=code,
    ).values_list("current_version_id", "status")
    return next(iter(rows), None)


@dataclass(frozen=True)
class SearchResult:
    query: search.ParsedQuery
    items: QuerySet[ServiceItem]


def region_scope(region_code: str) -> list[str]:
    """The region and its ancestors (GB/T 2260 prefixes): a county resident may use city and
    province items too."""
    code = region_code[:6]
    if not code.isdigit() or len(code) != 6:
        return []
    return sorted({code, code[:4] + "00", code[:2] + "0000"})


def filter_items(
    queryset: QuerySet[ServiceItem],
    *,
    region_code: str = "",
    audience: str = "",
    department: str = "",
    item_type: str = "",
    level: str = "",
    theme: str = "",
) -> QuerySet[ServiceItem]:
    if region_code:
        queryset = queryset.filter(department__region__code__in=region_scope(region_code))
    if audience == ThemeAudience.PERSON:
        queryset = queryset.filter(serves_person=True)
    elif audience == ThemeAudience.ENTERPRISE:
        queryset = queryset.filter(serves_enterprise=True)
    if department:
        queryset = queryset.filter(department__uscc=department)
    if item_type:  # the published type, not the draft's
        queryset = queryset.filter(current_version__item_type=item_type)
    if level:
        # A level that is not a number matches nothing (never a server error: issue 15 §2).
        if not (str(level).isascii() and str(level).isdigit()):
            return queryset.none()
        queryset = queryset.filter(department__level=int(level))
    if theme:
        queryset = queryset.filter(current_version__themes__code=theme)  # as published
    return queryset


@dataclass(frozen=True)
class BrowseCounts:
    """How many published items each browse choice finds: by life event / enterprise stage
    (theme code), department (USCC), the department's region code, administrative level,
    published item type and audience. Counted once per catalogue generation
    (``browse_counts``), so a browse page answers its count without aggregating."""

    total: int
    themes: dict[str, int]
    departments: dict[str, int]
    regions: dict[str, int]
    levels: dict[int, int]
    item_types: dict[str, int]
    audiences: dict[str, int]

    def count(
        self,
        *,
        region_code: str = "",
        audience: str = "",
        department: str = "",
        item_type: str = "",
        level: str = "",
        theme: str = "",
    ) -> int | None:
        """The number of items ``filter_items`` finds with these filters when at most one is
        set; None for a combination (its count is a query of its own)."""
        chosen = [
            name
            for name, value in (
                ("region", region_code),
                ("audience", audience),
                ("department", department),
                ("item_type", item_type),
                ("level", level),
                ("theme", theme),
            )
            if value
        ]
        if not chosen:
            return self.total
        if len(chosen) > 1:
            return None
        if region_code:
            return sum(self.regions.get(code, 0) for code in region_scope(region_code))
        if audience:
            return self.audiences.get(audience, self.total)  # another value filters nothing
        if department:
            return self.departments.get(department, 0)
        if item_type:
            return self.item_types.get(item_type, 0)
        if level:
            if not (level.isascii() and level.isdigit()):
                return 0
            return self.levels.get(int(level), 0)
        return self.themes.get(theme, 0)


def browse_counts() -> BrowseCounts:
    """Count the published catalogue by every browse choice: three grouped queries."""
    items = ServiceItem.objects.filter(status=ItemStatus.PUBLISHED, current_version__isnull=False)
    departments: dict[str, int] = {}
    regions: dict[str, int] = {}
    levels: dict[int, int] = {}
    audiences = {ThemeAudience.PERSON.value: 0, ThemeAudience.ENTERPRISE.value: 0}
    by_department = (
        items.values_list("department__uscc", "department__region__code", "department__level")
        .annotate(
            n=Count("pk"),
            person=Count("pk", filter=Q(serves_person=True)),
            enterprise=Count("pk", filter=Q(serves_enterprise=True)),
        )
        .order_by()
    )
    for uscc, region, level, n, person, enterprise in by_department:
        departments[uscc] = departments.get(uscc, 0) + n
        regions[region] = regions.get(region, 0) + n
        levels[int(level)] = levels.get(int(level), 0) + n
        audiences[ThemeAudience.PERSON.value] += person
        audiences[ThemeAudience.ENTERPRISE.value] += enterprise
    item_types = dict(
        items.values_list("current_version__item_type").annotate(n=Count("pk")).order_by()
    )
    themes = dict(
        items.filter(current_version__themes__isnull=False)
        .values_list("current_version__themes__code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return BrowseCounts(
        total=sum(departments.values()),
        themes=themes,
        departments=departments,
        regions=regions,
        levels=levels,
        item_types=item_types,
        audiences=audiences,
    )


MIN_PRECISE_RESULTS = 3


def _matches(tsquery: str) -> RawSQL:
    return RawSQL(
        "catalog_serviceitem.search_vector @@ %s::tsquery", [tsquery], output_field=BooleanField()
    )


def _ranked(
    queryset: QuerySet[ServiceItem], parsed: search.ParsedQuery, tsquery: str
) -> QuerySet[ServiceItem]:
    matches = _matches(tsquery)
    rank = RawSQL(
        "ts_rank(catalog_serviceitem.search_vector, %s::tsquery)",
        [tsquery],
        output_field=FloatField(),
    )
    # The published name (the item's ``name`` column is the draft, never shown publicly).
    bonus = Case(
        When(published_name=parsed.text, then=Value(2.0)),
        When(published_name__startswith=parsed.text, then=Value(1.0)),
        When(published_name__contains=parsed.text, then=Value(0.5)),
        default=Value(0.0),
        output_field=FloatField(),
    )
    # Popularity only breaks near-ties: at most +0.1 (e.g. "hz": 护照 before 核准).
    popularity = Least(F("popularity"), Value(1000)) / Value(10000.0)
    return (
        queryset.filter(matches)
        .annotate(rank=ExpressionWrapper(rank + bonus + popularity, output_field=FloatField()))
        .order_by("-rank", "department__level", "implementation_code")
    )


def search_items(text: str, *, base: QuerySet[ServiceItem] | None = None) -> SearchResult:
    """Published items matching ``text``, best match first (``rank`` annotated).

    On PostgreSQL the match is ``search_vector @@ tsquery`` (GIN index); call it, and evaluate
    the result, inside ``search_transaction()`` so every statement is served by that index. The
    zero-setup SQLite demo matches the same lexemes in Python (``search_in_python``).
    """
    parsed = search.parse_query(text)
    queryset = base if base is not None else published_items()
    if parsed.is_empty:
        return SearchResult(parsed, queryset.none())
    if connection.vendor != "postgresql":
        return SearchResult(parsed, search_in_python(queryset, parsed))
    # Strict first (every word), then all words but one, then any word, then sub-words and
    # single characters (typos): the first tier that finds enough is ranked.
    *narrower, tsquery = parsed.tiers
    for candidate in narrower:
        if _finds_enough(queryset.filter(_matches(candidate))):
            tsquery = candidate
            break
    return SearchResult(parsed, _ranked(queryset, parsed, tsquery))


def group_by_item(ranked: QuerySet[ServiceItem]) -> QuerySet[Any] | list[dict[str, Any]]:
    """The implementations of the same item (one basic code, implemented by the province, the
    city and the counties) as one result, best-ranked item first: rows of ``{"basic": …,
    "version_ids": [current version ids, province first]}``, to be sliced (a page) and
    counted. ``ranked`` is a result of ``search_items`` (annotated ``rank``)."""
    if "rank" not in ranked.query.annotations:  # an empty query finds nothing
        return []
    if connection.vendor != "postgresql":  # the SQLite demo: a few hundred rows, in Python
        groups: dict[str, list[int]] = {}
        for basic, version_id in ranked.values_list(
            "current_version__basic_code", "current_version_id"
        ):
            groups.setdefault(basic, []).append(version_id)
        return [{"basic": basic, "version_ids": ids} for basic, ids in groups.items()]
    return (
        ranked.order_by()
        .values(basic=F("current_version__basic_code"))
        .annotate(
            best=Max("rank"),
            version_ids=ArrayAgg(
                "current_version_id", order_by=("department__level", "implementation_code")
            ),
        )
        .order_by("-best", "basic")
    )


# Planner settings of a search transaction: the item table is read only through bitmap scans,
# and its one index that a search predicate can drive is the GIN index. Left to itself, the
# planner reads the table sequentially for broad one-word terms (登记, 许可: about 30 % of the
# items) — it overestimates how many rows match an OR of a word and its pinyin — and, without
# sequential scans, walks the department index in full for a merge join; measured on 10,000
# items (docs/architecture.md), neither is faster than the bitmap scan of the GIN index.
INDEX_ONLY_SETTINGS = (
    "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true)"
)


@contextmanager
def search_transaction() -> Iterator[None]:
    """Run a search — its tier probes, ranked page, count and the page's prefetches — in one
    transaction whose planner settings serve the item table from the GIN index (issue 4: no
    sequential scan on the item table at 10,000+ items, whatever the query).

    The settings are ``SET LOCAL``: they end with the transaction (or, nested in an outer
    transaction as in tests, with that one). Small tables (departments, regions) are still read
    sequentially when that is all the planner has. No-op on SQLite (the demo).
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(INDEX_ONLY_SETTINGS)
        yield


_LEXEME = re.compile(r"'((?:[^']|'')*)'(:\*)?")
_WEIGHT_VALUE = {"A": 1.0, "B": 0.4, "C": 0.2, "D": 0.1}  # ts_rank's default weights


def _lexemes(tsquery: str) -> list[tuple[str, bool]]:
    """(lexeme, is_prefix) of a ``tsquery`` built by ``search.parse_query``."""
    return [(m.group(1).replace("''", "'"), bool(m.group(2))) for m in _LEXEME.finditer(tsquery)]


def search_in_python(
    queryset: QuerySet[ServiceItem], parsed: search.ParsedQuery
) -> QuerySet[ServiceItem]:
    """The search of the zero-setup SQLite demo, which has no ``tsvector``: the published rows
    (a few hundred) are indexed in Python as at publish and matched against the query's tiers
    — pinyin, initials, synonyms and typos work as on PostgreSQL; ranking sums the weights of
    the matched lexemes plus the same name bonus and popularity tie-break. Not for production
    volumes."""
    rows = queryset.values_list(
        "pk",
        "current_version__name",
        "current_version__name_en",
        "current_version__keywords",
        "department__name",
        "current_version__result_name",
        "popularity",
    )
    documents = {
        pk: (
            name,
            search.document_lexemes(
                search.IndexedText(
                    name=name, name_en=name_en, keywords=keywords, department=dept, result=result
                )
            ),
            min(popularity, 1000) / 10000.0,  # the same tie-break as on PostgreSQL
        )
        for pk, name, name_en, keywords, dept, result, popularity in rows
    }
    scores: dict[int, float] = {}
    for tier in parsed.tiers:
        wanted = _lexemes(tier)
        for pk, (name, lexemes, popularity) in documents.items():
            score = sum(
                _WEIGHT_VALUE[weight]
                for lexeme, weight in lexemes.items()
                if any(lexeme.startswith(w) if prefix else lexeme == w for w, prefix in wanted)
            )
            if score:
                bonus = 2.0 if name == parsed.text else 0.5 if parsed.text in name else 0.0
                scores[pk] = score + bonus + popularity
        if len(scores) >= MIN_PRECISE_RESULTS:
            break
    ranked = sorted(scores, key=lambda pk: -scores[pk])[:200]
    if not ranked:
        return queryset.none()
    rank = Case(
        *(When(pk=pk, then=Value(scores[pk])) for pk in ranked),
        default=Value(0.0),
        output_field=FloatField(),
    )
    return (
        queryset.filter(pk__in=ranked)
        .annotate(rank=rank)
        .order_by("-rank", "department__level", "implementation_code")
    )


def _finds_enough(queryset: QuerySet[ServiceItem]) -> bool:
    """Whether ``queryset`` has at least ``MIN_PRECISE_RESULTS`` rows, read through the index.

    A plain ``LIMIT 3`` lets PostgreSQL bet on a sequential scan that stops at the third
    match, and read the whole table when there are fewer. The matches are planned on their
    own in a materialised CTE (the GIN index for a selective tier), and rows are pulled from it
    only until the third.
    """
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        # The filters exclude everything before any row is read (e.g. ``pk__in=[]`` from a
        # filter value that matches nothing).
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH matches AS MATERIALIZED ({sql}) "  # noqa: S608 - SQL built by the ORM
            "SELECT count(*) FROM (SELECT 1 FROM matches LIMIT %s) AS enough",
            [*params, MIN_PRECISE_RESULTS],
        )
        row = cursor.fetchone()
    return bool(row and row[0] >= MIN_PRECISE_RESULTS)


def list_manageable_items(actor: Any) -> QuerySet[ServiceItem]:
    """Items ``actor`` (department admin, superuser or ApiClient) may edit."""
    allowed = managed_department_ids(actor)
    queryset = ServiceItem.objects.select_related("department", "current_version")
    if allowed is None:
        return queryset
    return queryset.filter(department_id__in=allowed)


def with_draft_children(queryset: QuerySet[ServiceItem]) -> QuerySet[ServiceItem]:
    """Load what the department API shows of an item: draft lists, themes, versions.

    Four prefetch queries whatever the number of items (STYLE.md R2).
    """
    return queryset.select_related("department", "current_version").prefetch_related(
        Prefetch("draft_materials", queryset=DraftMaterial.objects.order_by("order", "pk")),
        Prefetch("draft_variants", queryset=DraftVariant.objects.order_by("order", "pk")),
        Prefetch("themes", queryset=Theme.objects.only("pk", "code")),
        Prefetch(
            "versions",
            queryset=ItemVersion.objects.only(
                "pk", "item_id", "version", "published_at", "published_via", "change_note"
            ).order_by("-version"),
        ),
    )


def get_manageable_item(actor: Any, code: str, *, children: bool = False) -> ServiceItem:
    """An item ``actor`` may maintain, by implementation code (STYLE.md R1); with its draft
    lists, themes and versions loaded when ``children``.

    Another department's item answers ``Http404`` exactly like one that does not exist, so the
    management API does not reveal which drafts other departments hold.
    """
    queryset = list_manageable_items(actor)
    if children:
        queryset = with_draft_children(queryset)
    item = queryset.filter(implementation_code=code).first()
    if item is None:
        raise Http404(_("事项不存在或无权维护"))
    return item
