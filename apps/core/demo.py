"""Base and demo data for core: regions, the working-day calendar, departments, halls, windows.

Called by ``manage.py loaddemo`` (see ``apps/core/management/commands/loaddemo.py``). Every step
is idempotent and keyed by a natural key, so the command can run on every ``make demo``:

- regions by GB/T 2260 code (``data/regions.csv``): names, levels and parents are updated in
  place when the file changes, never duplicated;
- departments by 统一社会信用代码, halls by hall code, windows by (hall, window number)
  (``data/demo_org.json``).

Rows that exist in the database but not in the files (added by an administrator) are left alone,
and so is ``is_active``. The files are base data rather than user input, so this module writes
with the ORM directly (bulk operations for regions) instead of going through per-object
services; it still records one audit event per step that changed something (STYLE.md S4).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from apps.audit.services import record_audit_event
from apps.core.models import (
    AdministrativeLevel,
    Department,
    Region,
    RegionLevel,
    ServiceHall,
    ServiceWindow,
    WindowKind,
)
from apps.core.services import seed_calendar

DATA_DIR = Path(__file__).resolve().parent / "data"
REGIONS_CSV = DATA_DIR / "regions.csv"
ORGANISATIONS_JSON = DATA_DIR / "demo_org.json"

_REGION_CODE = re.compile(r"^\d{6}$")


class Writer(Protocol):
    """What a loader needs from ``stdout``: a management command's ``OutputWrapper`` or a file."""

    def write(self, msg: str, /) -> Any: ...


class DemoDataError(ValueError):
    """A data file under ``apps/core/data`` is malformed; the message says where."""


# --- regions (GB/T 2260) -------------------------------------------------------------------


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    level: int
    parent_code: str | None


def read_region_rows(path: Path | None = None) -> list[RegionRow]:
    """Parse and check ``regions.csv`` (``code,name,level,parent_code``).

    Checks that codes are unique six-digit GB/T 2260 codes, levels are province/city/county, and
    every parent is in the file one level up with the matching code prefix.
    """
    path = path or REGIONS_CSV
    with path.open(encoding="utf-8", newline="") as fh:
        raw = list(csv.DictReader(fh))
    rows: list[RegionRow] = []
    for line, record in enumerate(raw, start=2):
        code = (record.get("code") or "").strip()
        name = (record.get("name") or "").strip()
        parent_code = (record.get("parent_code") or "").strip() or None
        try:
            level = int(record.get("level") or "")
        except ValueError:
            level = 0
        if not _REGION_CODE.match(code) or not name:
            raise DemoDataError(f"{path.name}:{line}: bad code or empty name: {record!r}")
        if level not in (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY):
            raise DemoDataError(f"{path.name}:{line}: level must be 1, 2 or 3: {record!r}")
        rows.append(RegionRow(code=code, name=name, level=level, parent_code=parent_code))

    by_code = {row.code: row for row in rows}
    if len(by_code) != len(rows):
        raise DemoDataError(f"{path.name}: duplicate region codes")
    # GB/T 2260: 2 digits province, 2 digits city, 2 digits county.
    expected_prefix = {RegionLevel.CITY: 2, RegionLevel.COUNTY: 4}
    for row in rows:
        if row.level == RegionLevel.PROVINCE:
            if row.parent_code is not None or not row.code.endswith("0000"):
                raise DemoDataError(f"{path.name}: province {row.code} malformed")
            continue
        # Cities end in 00 and counties do not; placeholder rows (360101 市辖区) are not regions.
        is_city_code = row.code.endswith("00")
        if row.name == "市辖区" or is_city_code != (row.level == RegionLevel.CITY):
            raise DemoDataError(f"{path.name}: {row.code} {row.name} is not level {row.level}")
        parent = by_code.get(row.parent_code or "")
        if parent is None or parent.level != row.level - 1:
            raise DemoDataError(f"{path.name}: {row.code} has no parent one level up in the file")
        prefix = expected_prefix[row.level]
        if row.code[:prefix] != parent.code[:prefix]:
            raise DemoDataError(f"{path.name}: {row.code} does not lie under {parent.code}")
    return rows


@transaction.atomic(durable=True)
def load_regions(*, rows: Sequence[RegionRow]) -> dict[str, int]:
    """Insert missing regions and update changed ones, level by level so parents exist first.

    Idempotent: a second run with the same rows writes nothing.
    """
    now = timezone.now()
    existing = Region.objects.in_bulk([row.code for row in rows], field_name="code")
    created = updated = 0
    for level in sorted({row.level for row in rows}):
        new: list[Region] = []
        changed: list[Region] = []
        for row in (r for r in rows if r.level == level):
            parent = existing[row.parent_code] if row.parent_code else None
            parent_id = parent.pk if parent else None
            region = existing.get(row.code)
            if region is None:
                new.append(Region(code=row.code, name=row.name, level=row.level, parent=parent))
            elif (region.name, region.level, region.parent_id) != (row.name, row.level, parent_id):
                region.name, region.level, region.parent_id = row.name, row.level, parent_id
                region.updated_at = now  # bulk_update skips auto_now
                changed.append(region)
        Region.objects.bulk_create(new)
        Region.objects.bulk_update(changed, ["name", "level", "parent", "updated_at"])
        # Re-read the new rows: the next level needs their primary keys on every backend.
        existing.update(Region.objects.in_bulk([r.code for r in new], field_name="code"))
        created += len(new)
        updated += len(changed)
    if created or updated:
        record_audit_event(
            actor=None,
            action="core.regions_loaded",
            object_type="core.region",
            data={"source": REGIONS_CSV.name, "created": created, "updated": updated},
        )
    return {"regions": len(rows), "regions_created": created, "regions_updated": updated}


# --- departments, halls and windows ----------------------------------------------------------


def read_organisations(path: Path | None = None) -> dict[str, Any]:
    path = path or ORGANISATIONS_JSON
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data.get("departments"), list) or not isinstance(data.get("halls"), list):
        raise DemoDataError(f"{path.name}: needs 'departments' and 'halls' lists")
    return data


def _level(value: str, *, where: str) -> AdministrativeLevel:
    try:
        return AdministrativeLevel[value.upper()]
    except KeyError as exc:
        raise DemoDataError(f"{where}: unknown level {value!r}") from exc


def _region(regions: Mapping[str, Region], code: str, *, where: str) -> Region:
    try:
        return regions[code]
    except KeyError as exc:
        raise DemoDataError(f"{where}: region {code!r} is not loaded") from exc


def _validated(obj: models.Model, *, where: str, exclude: Iterable[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        raise DemoDataError(f"{where}: {exc.message_dict}") from exc


def _assign(obj: models.Model, values: Mapping[str, Any]) -> bool:
    """Set ``values`` on ``obj``; return whether anything differed."""
    changed = False
    for field, value in values.items():
        if getattr(obj, field) != value:
            setattr(obj, field, value)
            changed = True
    return changed


def _load_departments(
    records: Sequence[Mapping[str, Any]], *, regions: Mapping[str, Region]
) -> tuple[dict[str, Department], int, int]:
    existing = Department.objects.in_bulk([r["uscc"] for r in records], field_name="uscc")
    created_usccs: set[str] = set()
    updated_usccs: set[str] = set()
    for record in records:
        where = f"department {record.get('uscc')} {record.get('name')}"
        values = {
            "name": record["name"],
            "short_name": record.get("short_name", ""),
            "region_id": _region(regions, record["region"], where=where).pk,
            "level": _level(record["level"], where=where),
            "phone": record.get("phone", ""),
            "address": record.get("address", ""),
        }
        department = existing.get(record["uscc"])
        if department is None:
            department = Department(uscc=record["uscc"], **values)
            _validated(department, where=where, exclude=["parent"])
            department.save()
            existing[department.uscc] = department
            created_usccs.add(department.uscc)
        elif _assign(department, values):
            _validated(department, where=where, exclude=["parent"])
            department.save()
            updated_usccs.add(department.uscc)

    # Parents in a second pass: a record may name a parent listed after it.
    for record in records:
        department = existing[record["uscc"]]
        parent_uscc = record.get("parent")
        if parent_uscc is not None and parent_uscc not in existing:
            raise DemoDataError(f"department {record['uscc']}: parent {parent_uscc} not in file")
        parent_id = existing[parent_uscc].pk if parent_uscc else None
        if department.parent_id != parent_id:
            department.parent_id = parent_id
            department.save(update_fields=["parent", "updated_at"])
            if department.uscc not in created_usccs:
                updated_usccs.add(department.uscc)
    return existing, len(created_usccs), len(updated_usccs)


def _load_halls(
    records: Sequence[Mapping[str, Any]],
    *,
    regions: Mapping[str, Region],
    departments: Mapping[str, Department],
) -> dict[str, int]:
    halls = ServiceHall.objects.in_bulk([r["code"] for r in records], field_name="code")
    counts = {"halls_created": 0, "halls_updated": 0, "windows_created": 0, "windows_updated": 0}
    for record in records:
        where = f"hall {record.get('code')}"
        values = {
            "name": record["name"],
            "region_id": _region(regions, record["region"], where=where).pk,
            "level": _level(record["level"], where=where),
            "address": record["address"],
            "opening_hours": record.get("opening_hours", ""),
            "phone": record.get("phone", ""),
        }
        hall = halls.get(record["code"])
        if hall is None:
            hall = ServiceHall(code=record["code"], **values)
            _validated(hall, where=where)
            hall.save()
            counts["halls_created"] += 1
        elif _assign(hall, values):
            _validated(hall, where=where)
            hall.save()
            counts["halls_updated"] += 1

        windows = {w.number: w for w in hall.windows.prefetch_related("departments")}
        for window_record in record.get("windows", []):
            number = window_record["number"]
            where_window = f"{where} window {number}"
            kind = window_record.get("kind", WindowKind.COMPREHENSIVE)
            if kind not in WindowKind.values:
                raise DemoDataError(f"{where_window}: unknown kind {kind!r}")
            try:
                stationed = [departments[uscc] for uscc in window_record.get("departments", [])]
            except KeyError as exc:
                raise DemoDataError(f"{where_window}: department {exc} not in file") from exc
            window = windows.get(number)
            if window is None:
                window = ServiceWindow(
                    hall=hall, number=number, name=window_record["name"], kind=kind
                )
                _validated(window, where=where_window)
                window.save()
                window.departments.set(stationed)
                counts["windows_created"] += 1
                continue
            changed = _assign(window, {"name": window_record["name"], "kind": kind})
            if changed:
                _validated(window, where=where_window)
                window.save()
            if {d.pk for d in window.departments.all()} != {d.pk for d in stationed}:
                window.departments.set(stationed)
                changed = True
            counts["windows_updated"] += int(changed)
    return counts


@transaction.atomic(durable=True)
def load_organisations(*, data: Mapping[str, Any]) -> dict[str, int]:
    """Upsert departments, halls and windows from ``demo_org.json``. Idempotent.

    Needs the regions the records refer to (``load_regions`` first).
    """
    codes = {r["region"] for r in data["departments"]} | {h["region"] for h in data["halls"]}
    regions = Region.objects.in_bulk(list(codes), field_name="code")
    departments, created, updated = _load_departments(data["departments"], regions=regions)
    counts = {
        "departments": len(data["departments"]),
        "departments_created": created,
        "departments_updated": updated,
        "halls": len(data["halls"]),
        "windows": sum(len(h.get("windows", [])) for h in data["halls"]),
        **_load_halls(data["halls"], regions=regions, departments=departments),
    }
    if any(value for key, value in counts.items() if key.endswith(("_created", "_updated"))):
        record_audit_event(
            actor=None,
            action="core.organisations_loaded",
            object_type="core.department",
            data={"source": ORGANISATIONS_JSON.name, **counts},
        )
    return counts


# --- entry point for loaddemo --------------------------------------------------------------


def load_core_demo(*, stdout: Writer) -> dict[str, int]:
    """Load regions, the calendar, departments, halls and windows. Idempotent.

    Each step commits on its own (``seed_calendar`` is a durable entry service), so a failure
    in a later step leaves the earlier ones in place; running again completes the rest.
    """
    region_counts = load_regions(rows=read_region_rows())
    stdout.write(
        "  行政区划: {regions} 条（新增 {regions_created}，更新 {regions_updated}）\n".format(
            **region_counts
        )
    )
    calendar_counts = seed_calendar(first_year=settings.CALENDAR_FIRST_YEAR)
    stdout.write(
        "  工作日历: 新增 {days} 个节假日/调休日，{years} 个年度\n".format(**calendar_counts)
    )
    org_counts = load_organisations(data=read_organisations())
    org_line = (
        "  部门: {departments} 个（新增 {departments_created}，更新 {departments_updated}）；"
        "大厅: {halls} 个（新增 {halls_created}，更新 {halls_updated}）；"
        "窗口: {windows} 个（新增 {windows_created}，更新 {windows_updated}）\n"
    )
    stdout.write(org_line.format(**org_counts))
    return {
        **region_counts,
        "calendar_days_created": calendar_counts["days"],
        "calendar_years_created": calendar_counts["years"],
        **org_counts,
    }
