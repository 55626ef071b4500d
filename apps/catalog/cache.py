"""Read-path caches of the published catalogue (issue 15 §1).

The catalogue is read millions of times a day and written a few times; a published version never
changes (a trigger refuses UPDATE on versions). Two kinds of entries, in the Django cache (Redis):

- **What a published version renders** — its list row for the pages, its serialised row for the
  API — keyed by the version's id. A publish creates a new version (a new id), so these entries
  never need invalidating; they expire after ``ROW_TIMEOUT`` so a renamed department shows up.
- **Query results** — the version ids of a page of a listing or a search, the count of a
  listing or a search, the browse choices (themes, departments, regions), the item behind a
  guide — keyed under the **catalogue generation**, a counter that ``publish_item``,
  ``suspend_item``, ``resume_item`` and ``retire_item`` bump in their transaction and again
  when it commits (``bump_catalog_generation_on_commit``). Bumping makes every older entry
  unreachable; they expire after ``RESULT_TIMEOUT``.

A reader that took generation N before a commit and stores what it computed after it stores
fresh data under a stale key; a reader that sees N+1 runs after the commit. Either way no stale
result is ever served under the current generation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.utils.translation import get_language

from apps.catalog.constants import CaseKind, ItemType

GENERATION_KEY = "catalog:generation"
ROW_TIMEOUT = 24 * 3600
RESULT_TIMEOUT = 3600

T = TypeVar("T")


def catalog_generation() -> int:
    """The current catalogue generation (1 when none was recorded yet)."""
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, 1, None)
        generation = cache.get(GENERATION_KEY) or 1
    return int(generation)


def bump_catalog_generation() -> None:
    """Make every cached query result of the catalogue unreachable (publish, retire, …)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no counter yet: any value above the default 1 will do
        cache.add(GENERATION_KEY, 2, None)


def bump_catalog_generation_on_commit() -> None:
    """Bump now and again when the transaction commits: a reader between the two may cache the
    old rows under the intermediate generation, which the second bump leaves behind; the
    first bump makes the change visible to this transaction's own later reads (and to tests,
    whose transactions never commit)."""
    bump_catalog_generation()
    transaction.on_commit(bump_catalog_generation)


def result_key(kind: str, *parts: Any, generation: int | None = None) -> str:
    digest = hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()
    return f"catalog:{generation or catalog_generation()}:{kind}:{digest}"


def cached_result(key: str, compute: Callable[[], T]) -> T:
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, RESULT_TIMEOUT)
    return value


def _cached_rows(
    prefix: str, version_ids: Sequence[int], load: Callable[[list[int]], dict[int, Any]]
) -> list[Any]:
    """Rows of ``version_ids`` in that order: one ``get_many``, and one load for the misses."""
    keys = {version_id: f"{prefix}:{version_id}" for version_id in version_ids}
    found = cache.get_many(keys.values())
    rows = {vid: found[key] for vid, key in keys.items() if key in found}
    missing = [vid for vid in version_ids if vid not in rows]
    if missing:
        loaded = load(missing)
        cache.set_many({keys[vid]: row for vid, row in loaded.items()}, ROW_TIMEOUT)
        rows.update(loaded)
    return [rows[vid] for vid in version_ids if vid in rows]


# --- list rows of the pages -------------------------------------------------------------------

ROW_FIELDS = {
    "version_id": "pk",
    "implementation_code": "item__implementation_code",
    "name": "name",
    "name_en": "name_en",
    "basic_code": "basic_code",
    "item_type": "item_type",
    "case_kind": "case_kind",
    "promised_limit_days": "promised_limit_days",
    "visits_required": "visits_required",
    "department_name": "department__name",
    "department_level": "department__level",
    "region_code": "department__region__code",
    "region_name": "department__region__name",
}


@dataclass(frozen=True)
class _Department:
    name: str
    level: int
    region_code: str
    region_name: str


@dataclass(frozen=True)
class _Version:
    pk: int
    name_zh: str
    name_en: str
    basic_code: str
    item_type: str
    case_kind: str
    promised_limit_days: int | None
    visits_required: int

    @property
    def name(self) -> str:
        """The name in the interface's language (English when the version has one)."""
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name_zh

    def get_item_type_display(self) -> str:
        return str(ItemType(self.item_type).label) if self.item_type in ItemType else ""

    def get_case_kind_display(self) -> str:
        return str(CaseKind(self.case_kind).label) if self.case_kind in CaseKind else ""


@dataclass(frozen=True)
class ItemRow:
    """What a list shows of one published item; quacks like a ``ServiceItem`` with its
    ``current_version`` and ``department`` for the list templates."""

    implementation_code: str
    current_version: _Version
    department: _Department

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> ItemRow:
        return cls(
            implementation_code=values["implementation_code"],
            current_version=_Version(
                pk=values["version_id"],
                name_zh=values["name"],
                name_en=values["name_en"],
                basic_code=values["basic_code"],
                item_type=values["item_type"],
                case_kind=values["case_kind"],
                promised_limit_days=values["promised_limit_days"],
                visits_required=values["visits_required"],
            ),
            department=_Department(
                name=values["department_name"],
                level=int(values["department_level"]),
                region_code=values["region_code"],
                region_name=values["region_name"],
            ),
        )


def _load_rows(version_ids: list[int]) -> dict[int, dict[str, Any]]:
    from apps.catalog.models import ItemVersion

    rows = ItemVersion.objects.filter(pk__in=version_ids).values(*ROW_FIELDS.values())
    return {row["pk"]: {name: row[source] for name, source in ROW_FIELDS.items()} for row in rows}


def item_rows(version_ids: Iterable[int]) -> list[ItemRow]:
    """The list rows of published versions, in the order given."""
    values = _cached_rows("catalog:row", list(version_ids), _load_rows)
    return [ItemRow.from_values(row) for row in values]


def api_rows(version_ids: Iterable[int], load: Callable[[list[int]], dict[int, Any]]) -> list[Any]:
    """The API's serialised rows of published versions (``load`` serialises the misses)."""
    return _cached_rows("catalog:api-row", list(version_ids), load)


class CachedResults:
    """A lazily computed, ordered result of published items for ``Paginator``: its count and
    each slice of version ids are cached under the catalogue generation; the rows come from
    ``rows`` (cached by version id). ``compute_ids(start, stop)`` and ``compute_count()`` run
    only on a miss."""

    def __init__(
        self,
        *,
        kind: str,
        params: Any,
        compute_ids: Callable[[int, int | None], list[int]],
        compute_count: Callable[[], int],
        rows: Callable[[list[int]], list[Any]],
    ) -> None:
        self.generation = catalog_generation()
        self.kind = kind
        self.params = params
        self.compute_ids = compute_ids
        self.compute_count = compute_count
        self.rows = rows
        self._count: int | None = None

    def _key(self, *parts: Any) -> str:
        return result_key(self.kind, self.params, *parts, generation=self.generation)

    def count(self) -> int:
        if self._count is None:
            self._count = cached_result(self._key("count"), self.compute_count)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Any]:
        assert isinstance(index, slice)
        start, stop = index.start or 0, index.stop
        ids = cached_result(self._key("ids", start, stop), lambda: self.compute_ids(start, stop))
        return self.rows(ids)
