"""``manage.py loaddemo`` and the core base data: regions, departments, halls and windows."""

from io import StringIO
from pathlib import Path

import pytest
from stdnum.cn import uscc

from django.core.management import call_command
from django.core.management.base import CommandError

from apps.audit.models import AuditEvent
from apps.core import demo
from apps.core.management.commands import loaddemo
from apps.core.models import (
    AdministrativeLevel,
    CalendarDay,
    Department,
    Region,
    RegionLevel,
    ServiceHall,
    ServiceWindow,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _core_loader_only(monkeypatch) -> None:
    """These tests are about the core part of ``loaddemo`` (regions, calendar, departments,
    halls): run the command with the core loader alone. The whole command, every app's loader
    in order, is exercised by the other apps' demo tests and by the runtime check."""
    monkeypatch.setattr(loaddemo, "DEMO_LOADERS", ["apps.core.demo.load_core_demo"])


JIANGXI = "360000"


def _load() -> str:
    out = StringIO()
    call_command("loaddemo", stdout=out)
    return out.getvalue()


def _snapshot() -> dict[str, int]:
    return {
        "regions": Region.objects.count(),
        "calendar_days": CalendarDay.objects.count(),
        "departments": Department.objects.count(),
        "halls": ServiceHall.objects.count(),
        "windows": ServiceWindow.objects.count(),
        "window_departments": ServiceWindow.departments.through.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


def _gb11714_check(body: str) -> str:
    """GB 11714 organisation-code check character over the first 8 characters."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c, 36) * w for c, w in zip(body, weights, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def test_loaddemo_twice_gives_identical_counts() -> None:
    # given the demo data loaded once
    _load()
    first = _snapshot()
    # when it is loaded again
    output = _load()
    # then nothing is added, not even an audit event, and the run reports no changes
    assert _snapshot() == first
    assert first["regions"] == 145
    assert "regions_created=0" in output
    assert "departments_created=0" in output
    assert "windows_created=0" in output


def test_all_34_provincial_units_are_present() -> None:
    # when the demo data is loaded
    _load()
    # then every provincial-level unit is there, including 台湾省, 香港 and 澳门
    provinces = dict(Region.objects.filter(level=RegionLevel.PROVINCE).values_list("code", "name"))
    assert len(provinces) == 34
    assert provinces["360000"] == "江西省"
    assert provinces["710000"] == "台湾省"
    assert provinces["810000"] == "香港特别行政区"
    assert provinces["820000"] == "澳门特别行政区"
    assert not Region.objects.filter(level=RegionLevel.PROVINCE, parent__isnull=False).exists()


def test_jiangxi_has_11_cities_and_every_county_sits_under_its_city() -> None:
    # when the demo data is loaded
    _load()
    # then Jiangxi has its 11 prefecture-level cities
    cities = Region.objects.filter(level=RegionLevel.CITY, parent__code=JIANGXI)
    assert cities.count() == 11
    assert set(cities.values_list("code", flat=True)) == {f"36{n:02d}00" for n in range(1, 12)}
    # and each county-level unit's parent is the city its code names
    counties = Region.objects.filter(level=RegionLevel.COUNTY, code__startswith="36")
    assert counties.count() == 100
    for county in counties.select_related("parent"):
        assert county.parent is not None
        assert county.parent.code == county.code[:4] + "00"
        assert county.parent.level == RegionLevel.CITY
    # and no 市辖区 placeholder rows were loaded
    assert not Region.objects.filter(name="市辖区").exists()
    assert Region.objects.get(code="360113").name == "红谷滩区"
    assert Region.objects.get(code="360783").name == "龙南市"


def test_every_department_has_a_valid_credit_code() -> None:
    # when the demo data is loaded
    _load()
    departments = list(Department.objects.select_related("region"))
    # then there are departments at province, city and county level
    assert len(departments) >= 25
    assert {d.level for d in departments} == {
        AdministrativeLevel.PROVINCE,
        AdministrativeLevel.CITY,
        AdministrativeLevel.COUNTY,
    }
    for department in departments:
        # and each USCC passes the GB 32100 check, embeds the department's region code
        assert uscc.is_valid(department.uscc), department.name
        assert department.uscc[2:8] == department.region.code
        # and its organisation code carries a valid GB 11714 check character
        organisation_code = department.uscc[8:17]
        assert organisation_code[8] == _gb11714_check(organisation_code[:8]), department.name


def test_department_parents_point_one_level_up() -> None:
    # when the demo data is loaded
    _load()
    # then a county department's parent is a city department (e.g. 南昌县公安局 → 南昌市公安局)
    police = Department.objects.select_related("parent").get(name="南昌县公安局")
    assert police.parent is not None
    assert police.parent.name == "南昌市公安局"
    for department in Department.objects.filter(parent__isnull=False).select_related("parent"):
        assert department.parent.level == department.level - 1


def test_each_hall_has_windows_staffed_by_departments() -> None:
    # when the demo data is loaded
    _load()
    halls = list(ServiceHall.objects.prefetch_related("windows__departments"))
    # then the four demo halls each have 4-8 windows, each with at least one department
    assert {h.code for h in halls} == {
        "360000-ZWFW-01",
        "360100-ZWFW-01",
        "360121-ZWFW-01",
        "360113-ZWFW-01",
    }
    for hall in halls:
        windows = list(hall.windows.all())
        assert 4 <= len(windows) <= 8, hall.name
        assert {w.kind for w in windows} >= {"comprehensive", "help", "delivery"}, hall.name
        for window in windows:
            assert window.departments.exists(), f"{hall.name} {window.number}"


def test_loaddemo_repairs_changed_rows_without_duplicating() -> None:
    # given loaded data that an edit has drifted from the files
    _load()
    before = _snapshot()
    Region.objects.filter(code="360783").update(name="龙南县")
    Department.objects.filter(name="南昌县公安局").update(parent=None)
    ServiceWindow.objects.get(hall__code="360113-ZWFW-01", number="01").departments.clear()
    # when loaddemo runs again
    output = _load()
    # then the rows are put back, and only audit events are added
    assert Region.objects.get(code="360783").name == "龙南市"
    assert Department.objects.get(name="南昌县公安局").parent.name == "南昌市公安局"
    window = ServiceWindow.objects.get(hall__code="360113-ZWFW-01", number="01")
    assert window.departments.count() == 4
    assert "regions_updated=1" in output
    assert "departments_updated=1" in output
    assert "windows_updated=1" in output
    after = _snapshot()
    assert after["audit_events"] == before["audit_events"] + 2
    assert {k: v for k, v in after.items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }


HEADER = "code,name,level,parent_code\n"
MALFORMED_REGION_FILES = [
    ("bad_code", "36000,江西省,1,\n"),
    ("missing_parent", "360100,南昌市,2,360000\n"),
    ("placeholder_row", "360000,江西省,1,\n360100,南昌市,2,360000\n360101,市辖区,3,360100\n"),
    ("county_code_at_city_level", "360000,江西省,1,\n360102,东湖区,2,360000\n"),
    (
        "county_under_wrong_city",
        "360000,江西省,1,\n360100,南昌市,2,360000\n360200,景德镇市,2,360000\n"
        "360202,昌江区,3,360100\n",
    ),
]


@pytest.mark.parametrize(
    ("_case", "rows"), MALFORMED_REGION_FILES, ids=[c for c, _ in MALFORMED_REGION_FILES]
)
def test_malformed_region_file_is_refused(_case: str, rows: str, tmp_path: Path) -> None:
    # given a region file with a mistake
    path = tmp_path / "regions.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    # when it is read, then it is refused before anything is written
    with pytest.raises(demo.DemoDataError):
        demo.read_region_rows(path)


def test_loaddemo_reports_a_bad_data_file_as_a_command_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # given a broken region file
    path = tmp_path / "regions.csv"
    path.write_text(HEADER + "abc,坏数据,1,\n", encoding="utf-8")
    monkeypatch.setattr(demo, "REGIONS_CSV", path)
    # when loaddemo runs, then it stops with a CommandError naming the loader, writing nothing
    with pytest.raises(CommandError, match="load_core_demo"):
        _load()
    assert not Region.objects.exists()
