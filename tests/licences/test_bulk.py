"""Bulk import of licence stock: every row validated, refused rows reported, all or nothing."""

import json

import pytest

from django.core.management import CommandError, call_command
from django.utils import translation

from apps.licences.models import Licence
from apps.licences.services.bulk import import_licences
from tests.identity.factories import EnterpriseFactory, verified_user
from tests.licences.factories import BUSINESS, DRIVING, licence_type

pytestmark = pytest.mark.django_db


def _csv(tmp_path, lines):
    path = tmp_path / "stock.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_csv_rows_are_imported_and_linked_to_known_holders(tmp_path, department, capsys):
    # given: a person with an account and an enterprise known to the identity app
    holder = verified_user("孙立")
    enterprise = EnterpriseFactory()
    driving, business = licence_type(DRIVING).code, licence_type(BUSINESS).code
    path = _csv(
        tmp_path,
        [
            "type_code,issuer_code,holder_name,holder_code,number,valid_from,valid_until,face.XM,face.ZJCX,face.MC,face.LX",
            f"{driving},{department.uscc},孙立,{holder.person.id_number},360102001,2024-01-01,2030-01-01,孙立,C1,,",
            f"{business},{department.uscc},{enterprise.name},{enterprise.uscc},B-1,2020-05-01,,,,{enterprise.name},有限责任公司",
        ],
    )

    # when
    call_command("import_licences", str(path))

    # then
    assert "已导入 2 本证照" in capsys.readouterr().out
    person = Licence.objects.get(licence_type__code=driving)
    assert person.holder_user == holder
    assert person.number == "360102001"
    assert Licence.objects.get(licence_type__code=business).holder_enterprise == enterprise
    assert person.history.get().reason == "存量证照导入"


def test_one_bad_row_imports_nothing_and_every_refusal_is_reported(tmp_path, department, capsys):
    driving = licence_type(DRIVING).code
    good = {
        "type_code": driving,
        "issuer_code": department.uscc,
        "holder_name": "周一",
        "holder_code": "11010519491231002X",
        "valid_until": "2031-01-01",
        "face": {"XM": "周一", "ZJCX": "C1"},
    }
    rows = [
        good,
        {**good, "type_code": "11100000000013338W999"},
        {**good, "issuer_code": "91110000MA0000000X"},
        {**good, "valid_until": "2031/01/01"},
        {**good, "face": {"XM": "周一", "NOPE": "x"}},
        {**good, "holder_name": ""},
        {**good, "holder_code": "110105194912310021"},
        good,  # the same holder twice: one valid licence per holder and type
    ]
    path = tmp_path / "stock.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")

    with pytest.raises(CommandError, match="8 行，7 行被拒绝"):
        call_command("import_licences", str(path))

    out = capsys.readouterr().out
    assert "第 2 行被拒绝：证照目录中没有该证照类型" in out
    assert "第 3 行被拒绝：颁发机构代码不是本平台的部门" in out
    assert "第 4 行被拒绝：有效期截止日期不是有效日期" in out
    assert "第 5 行被拒绝：照面信息含有模板之外的项目：NOPE" in out
    assert "第 6 行被拒绝：缺少必填项：holder_name" in out
    assert "第 7 行被拒绝：持证主体代码不是有效的居民身份证号码" in out
    assert "第 8 行被拒绝：持证主体已持有有效的机动车驾驶证" in out
    assert "第 1 行" not in out
    assert Licence.objects.count() == 0


def test_dry_run_validates_only(tmp_path, department, capsys):
    holder = verified_user("吴二")
    path = tmp_path / "stock.json"
    row = {
        "type_code": licence_type(DRIVING).code,
        "issuer_code": department.uscc,
        "holder_name": "吴二",
        "holder_code": holder.person.id_number,
        "face": {"XM": "吴二"},
    }
    path.write_text(json.dumps([row], ensure_ascii=False), encoding="utf-8")
    call_command("import_licences", str(path), "--dry-run")
    assert "校验通过（未导入） 1" in capsys.readouterr().out
    assert Licence.objects.count() == 0


def test_unreadable_file_is_refused(tmp_path, db):
    path = tmp_path / "stock.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="文件无法解析"):
        call_command("import_licences", str(path))


def test_refusals_list_their_fields_with_the_interface_languages_separator(department):
    # given: a row missing two fields and a row with two face items outside the template
    driving = licence_type(DRIVING).code
    rows = [
        {"type_code": driving, "issuer_code": department.uscc},
        {
            "type_code": driving,
            "issuer_code": department.uscc,
            "holder_name": "周一",
            "holder_code": "11010519491231002X",
            "face": {"XM": "周一", "NOPE": "x", "ZZZ": "y"},
        },
    ]
    # when: imported in Chinese and in English
    chinese = import_licences(rows).refused
    with translation.override("en"):
        english = import_licences(rows).refused
    # then: 、 in Chinese, ", " in English
    assert chinese == [
        (1, "缺少必填项：holder_name、holder_code"),
        (2, "照面信息含有模板之外的项目：NOPE、ZZZ"),
    ]
    assert english == [
        (1, "Missing required fields: holder_name, holder_code"),
        (2, "The face data contain items outside the template: NOPE, ZZZ"),
    ]
    assert Licence.objects.count() == 0
