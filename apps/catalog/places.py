"""Where the citizen is: the region a search shows first.

A region is remembered in a cookie when the visitor chooses one (signed in or not, like the
language and the elder-friendly mode); otherwise a signed-in person's household region in the
population registry is used. A search result is one item implemented by several departments
(province, city, counties): the implementation of the citizen's own region — the county, else
the city, else the province — is shown first, the others grouped under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.http import HttpRequest

from apps.catalog.cache import ItemRow, item_rows

REGION_COOKIE = "gp_region"


def valid_region_code(code: str) -> str:
    code = (code or "").strip()
    return code if len(code) == 6 and code.isascii() and code.isdigit() else ""


def places_above(region_code: str) -> list[str]:
    """The region and the regions above it, most local first (GB/T 2260 prefixes):
    360121 → [360121, 360100, 360000]."""
    code = valid_region_code(region_code)
    if not code:
        return []
    return list(dict.fromkeys([code, code[:4] + "00", code[:2] + "0000"]))


def chosen_region(request: HttpRequest) -> str:
    """The region the citizen chose (cookie), else the signed-in person's household region."""
    code = valid_region_code(request.COOKIES.get(REGION_COOKIE, ""))
    if code:
        return code
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and not user.is_staff:
        from apps.identity.selectors import household_region

        return valid_region_code(household_region(user))
    return ""


@dataclass(frozen=True)
class ItemGroup:
    """One item of a result list: the implementation shown first and the others."""

    first: ItemRow
    others: tuple[ItemRow, ...]
    is_local: bool  # ``first`` is implemented in the citizen's region or a region above it


def arrange(rows: Sequence[ItemRow], region_code: str) -> ItemGroup:
    """The implementation of the citizen's region first (county, then city, then province),
    then the others in the order given (province first)."""
    scope = places_above(region_code)

    def distance(row: ItemRow) -> int:
        code = row.department.region_code
        return scope.index(code) if code in scope else len(scope)

    ordered = sorted(rows, key=distance)  # stable: ties keep the given order
    return ItemGroup(
        first=ordered[0],
        others=tuple(ordered[1:]),
        is_local=bool(scope) and distance(ordered[0]) < len(scope),
    )


def item_groups(groups: Sequence[Sequence[int]], region_code: str) -> list[ItemGroup]:
    """Groups of version ids (``selectors.group_by_item``) as ``ItemGroup``s; rows come from the
    row cache in one round trip."""
    rows = {row.current_version.pk: row for row in item_rows(v for g in groups for v in g)}
    result = []
    for ids in groups:
        members = [rows[version_id] for version_id in ids if version_id in rows]
        if members:
            result.append(arrange(members, region_code))
    return result
