"""The application form: JSON Schema → Chinese Django form with server-side validation."""

import pytest

from django.core.exceptions import ValidationError
from django.http import QueryDict

from apps.catalog.forms import build_application_form, check_form_schema, validate_application_data
from tests.catalog.factories import published_item

pytestmark = pytest.mark.django_db

VALID = {
    "applicant_name": "张三",
    "id_number": "11010519491231002X",
    "mobile": "13800138000",
    "reason": "first",
    "move_date": "2026-03-01",
    "agree": True,
}


@pytest.fixture
def version(department):
    return published_item(department)[1]


def test_form_is_rendered_in_chinese_in_schema_order(version) -> None:
    form = build_application_form(version)
    assert list(form.fields) == [
        "applicant_name",
        "id_number",
        "mobile",
        "reason",
        "move_date",
        "agree",
    ]
    assert form.fields["reason"].choices[1:] == [
        ("first", "首次申领"),
        ("renew", "到期换领"),
        ("lost", "遗失补领"),
    ]
    html = form.as_div()
    assert "申请人姓名" in html
    assert 'type="date"' in html


def test_valid_json_is_cleaned(version) -> None:
    assert validate_application_data(version, VALID) == VALID


def test_valid_form_post_is_cleaned(version) -> None:
    post = QueryDict(mutable=True)
    post.update({**VALID, "agree": "on", "move_date": "2026-03-01"})
    assert validate_application_data(version, post)["agree"] is True


@pytest.mark.parametrize(
    ("_case", "change", "field", "message"),
    [
        ("missing_name", {"applicant_name": ""}, "applicant_name", "请填写此项"),
        (
            "bad_id_number",
            {"id_number": "110105194912310021"},
            "id_number",
            "请输入有效的居民身份证号码",
        ),
        ("bad_mobile", {"mobile": "1234"}, "mobile", "请输入11位手机号码"),
        ("unknown_choice", {"reason": "bribe"}, "reason", "请选择有效的选项"),
        ("missing_choice", {"reason": ""}, "reason", "请选择此项"),
        ("name_too_long", {"applicant_name": "张" * 21}, "applicant_name", "不能超过20个字"),
        ("bad_date", {"move_date": "2026-02-30"}, "move_date", "格式不正确"),
        ("not_agreed", {"agree": False}, "agree", "请选择此项"),
    ],
)
def test_invalid_data_gets_chinese_field_messages(version, _case, change, field, message) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate_application_data(version, {**VALID, **change})
    assert exc_info.value.message_dict[field] == [message]


def test_every_missing_field_is_reported_at_once(version) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate_application_data(version, {})
    assert set(exc_info.value.message_dict) == {
        "applicant_name",
        "id_number",
        "mobile",
        "reason",
        "agree",
    }


def test_schema_checks_name_the_problem_in_chinese() -> None:
    problems = check_form_schema(
        {
            "type": "object",
            "properties": {
                "Name": {"type": "string"},
                "files": {"type": "object", "title": "附件"},
            },
            "required": ["phone"],
        }
    )
    assert problems == [
        "字段标识 Name 只能使用小写字母、数字和下划线",
        "字段 Name 缺少中文标题（title）",
        "字段 files 的类型不受支持",
        "必填字段 phone 未在 properties 中定义",
    ]
    assert check_form_schema({"type": "object", "properties": {"a": {"type": 5}}})[0].startswith(
        "申请表不是有效的 JSON Schema"
    )
