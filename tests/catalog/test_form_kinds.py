"""Application forms per applicant kind (issue 16 §5): ``x-applicant-kinds`` in the item's
form schema (apps.catalog.forms), with the demo catalogue's schema as the example."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from django.core.exceptions import ValidationError

from apps.catalog.demo import APPLICATION_SCHEMA
from apps.catalog.forms import (
    build_application_form,
    check_form_schema,
    schema_for_kind,
    validate_application_data,
)

VERSION = SimpleNamespace(form_schema=APPLICATION_SCHEMA)
UNIT = {
    "enterprise_name": "南昌示范商贸有限公司",
    "uscc": "91360100MA35XXXX0X",
    "mobile": "13800138000",
    "agree_unit": True,
}


def _uscc() -> str:
    from apps.identity.demo import make_enterprise_uscc

    return make_enterprise_uscc("360113", 501)


def test_demo_schema_is_valid() -> None:
    assert check_form_schema(APPLICATION_SCHEMA) == []


@pytest.mark.parametrize(
    ("_case", "kinds"),
    [("unknown_kind", ["citizen"]), ("empty", []), ("not_a_list", "person")],
)
def test_check_form_schema_refuses_bad_kinds(_case, kinds) -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string", "title": "甲", "x-applicant-kinds": kinds}},
    }
    assert check_form_schema(schema) == [
        "字段 a 的 x-applicant-kinds 只能列出 person、enterprise、agent"
    ]


def test_person_and_enterprise_see_different_fields_and_promises() -> None:
    # when
    person = build_application_form(VERSION, kind="person")
    enterprise = build_application_form(VERSION, kind="enterprise")
    agent = build_application_form(VERSION, kind="agent")

    # then: a person is not asked for the unit's name or credit code, and promises as 本人
    assert list(person.fields) == [
        "applicant_name",
        "id_number",
        "mobile",
        "address",
        "note",
        "agree",
    ]
    assert person.fields["agree"].label == "本人承诺所填信息及所交材料真实有效"
    assert list(enterprise.fields) == [
        "enterprise_name",
        "uscc",
        "contact_name",
        "mobile",
        "address",
        "note",
        "agree_unit",
    ]
    assert enterprise.fields["agree_unit"].label == "本单位承诺所填信息及所交材料真实有效"
    assert "agent_id_number" in agent.fields
    assert "contact_name" not in agent.fields


def test_required_fields_are_marked_and_labels_end_in_a_full_width_colon() -> None:
    form = build_application_form(VERSION, kind="person")

    html = str(form["applicant_name"].label_tag())

    assert "申请人姓名：" in html
    assert form.fields["applicant_name"].required
    assert form.fields["applicant_name"].widget.attrs["aria-required"] == "true"
    assert not form.fields["address"].required
    assert "aria-required" not in form.fields["address"].widget.attrs


def test_without_a_kind_the_whole_schema_is_used() -> None:
    # Schemas and callers that know nothing of kinds behave as before.
    assert schema_for_kind(APPLICATION_SCHEMA, None) == APPLICATION_SCHEMA
    assert set(build_application_form(VERSION).fields) == set(APPLICATION_SCHEMA["properties"])


def test_server_side_validation_enforces_the_kinds_fields() -> None:
    # when: an enterprise's form is validated as a person's
    with pytest.raises(ValidationError) as person_errors:
        validate_application_data(VERSION, {**UNIT, "uscc": _uscc()}, kind="person")
    # and: a person's form as an enterprise's
    with pytest.raises(ValidationError) as unit_errors:
        validate_application_data(
            VERSION,
            {"applicant_name": "张伟", "mobile": "13800138000", "agree": True},
            kind="enterprise",
        )

    # then: each kind's own required fields and promise are demanded
    assert set(person_errors.value.message_dict) == {"applicant_name", "id_number", "agree"}
    assert set(unit_errors.value.message_dict) == {
        "enterprise_name",
        "uscc",
        "contact_name",
        "agree_unit",
    }


def test_fields_of_another_kind_are_dropped() -> None:
    # given: a person's form with a stray unit field posted with it
    data = {
        "applicant_name": "张伟",
        "id_number": "11010519491231002X",
        "mobile": "13800138000",
        "agree": True,
        "enterprise_name": "不应保存",
    }

    # when
    cleaned = validate_application_data(VERSION, data, kind="person")

    # then
    assert "enterprise_name" not in cleaned
    assert cleaned["agree"] is True


def test_guide_says_who_fills_each_field_in() -> None:
    from apps.catalog.forms import kinds_note

    properties = APPLICATION_SCHEMA["properties"]

    assert kinds_note(properties["applicant_name"]) == "自然人申请时填写"
    assert kinds_note(properties["enterprise_name"]) == "单位申请时填写"
    assert kinds_note(properties["agent_id_number"]) == "经办人代单位申请时填写"
    assert kinds_note(properties["mobile"]) == ""
