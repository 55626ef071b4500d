"""Publishing, versions and department scoping of the catalogue services."""

import pytest

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from apps.audit.models import AuditEvent
from apps.catalog import selectors, services
from apps.catalog.constants import ItemStatus
from apps.catalog.models import ItemMaterial, ItemVersion, ServiceItem
from apps.core.exceptions import DomainError
from tests.catalog.factories import (
    draft_item,
    element_fields,
    materials,
    published_item,
    superuser,
)
from tests.identity.factories import ApiClientFactory

pytestmark = pytest.mark.django_db


def test_publish_freezes_every_element_and_material(department) -> None:
    # given
    item = draft_item(department, name="居民身份证申领")
    actor = superuser()
    # when
    version = services.publish_item(actor=actor, item_id=item.pk, change_note="首次发布")
    # then
    item.refresh_from_db()
    assert item.status == ItemStatus.PUBLISHED
    assert item.current_version == version
    assert version.version == 1
    assert version.name == "居民身份证申领"
    assert version.department == department
    assert version.implementation_code == f"{department.uscc}2{item.basic_code}"
    assert version.published_by == actor
    assert [m.key for m in version.materials.all()] == ["id-card", "application"]
    assert (
        version.materials.get(key="id-card").licence_types
        == item.draft_materials.get(key="id-card").licence_types
    )
    event = AuditEvent.objects.get(action="catalog.item_published")
    assert event.object_id == str(item.pk)
    assert event.data["version"] == 1


def test_editing_after_a_case_was_created_keeps_the_cases_version(department) -> None:
    # given: an applicant applied under version 1 (the case stores the version it was given)
    item, _ = published_item(department, promised_limit_days=5)
    case_version = selectors.get_item_for_apply(item.implementation_code)
    # when: the department edits the item and publishes version 2
    services.update_item(
        actor=superuser(),
        item_id=item.pk,
        fields={"promised_limit_days": 3, "name": "新名称"},
        materials=materials(name="居民身份证（正反面）"),
    )
    services.publish_item(actor=superuser(), item_id=item.pk)
    # then: the case's version is exactly what was published
    pinned = ItemVersion.objects.get(pk=case_version.pk)
    assert (pinned.version, pinned.promised_limit_days, pinned.name) == (1, 5, item.name)
    assert pinned.materials.get(key="id-card").name == "居民身份证"
    current = selectors.get_item_for_apply(item.implementation_code)
    assert (current.version, current.promised_limit_days, current.name) == (2, 3, "新名称")


def test_published_versions_are_immutable_in_the_database(department) -> None:
    _, version = published_item(department)
    with pytest.raises(DatabaseError), transaction.atomic():
        ItemVersion.objects.filter(pk=version.pk).update(name="改过的名称")
    with pytest.raises(DatabaseError), transaction.atomic():
        ItemMaterial.objects.filter(version=version).delete()
    assert ItemVersion.objects.get(pk=version.pk).name == version.name


def test_draft_edits_do_not_reach_citizens_until_published(department) -> None:
    item, version = published_item(department)
    services.update_item(actor=superuser(), item_id=item.pk, fields={"name": "草稿名称"})
    assert selectors.get_item_for_apply(item.implementation_code).name == version.name
    item.refresh_from_db()
    assert item.has_unpublished_changes is True


@pytest.mark.parametrize(
    ("_case", "overrides", "material_overrides", "field", "message"),
    [
        (
            "promised_over_legal",
            {"legal_limit_days": 5, "promised_limit_days": 8},
            {},
            "promised_limit_days",
            "承诺办结时限不得超过法定办结时限",
        ),
        ("no_legal_basis", {"legal_basis": ""}, {}, "legal_basis", "发布前必须填写“设定依据”"),
        ("no_conditions", {"conditions": ""}, {}, "conditions", "发布前必须填写“受理条件”"),
        (
            "catch_all_material",
            {},
            {"name": "其他材料"},
            "materials[0]",
            "“其他材料”是兜底性材料，须列明具体材料名称",
        ),
        (
            "catch_all_inside_name",
            {},
            {"name": "营业执照等相关材料"},
            "materials[0]",
            "“营业执照等相关材料”是兜底性材料，须列明具体材料名称",
        ),
        (
            "visits_without_reason",
            {"visits_required": 1},
            {},
            "visits_reason",
            "需要到现场办理的，必须说明原因",
        ),
        (
            "online_without_form",
            {"form_schema": {}},
            {},
            "form_schema",
            "支持网上办理的事项须提供申请表",
        ),
        (
            "charged_without_basis",
            {"is_free": False, "fee_items": [{"name": "工本费"}]},
            {},
            "fee_items",
            "收费事项须列明收费项目及收费依据",
        ),
        (
            "bad_licence_type",
            {},
            {"licence_types": ["not-a-code"]},
            "materials[0]",
            "“居民身份证”的电子证照类型代码格式不正确",
        ),
        (
            "basic_code_with_lowercase_and_punctuation",
            {"basic_code": "ab-1234"},
            {},
            "basic_code",
            "基本编码只能由数字和大写字母组成",
        ),
        (
            "placeholder_basic_code",
            {"basic_code": "000000000000"},
            {},
            "basic_code",
            "基本编码不能是占位符",
        ),
        (
            "bad_local_basic_code",
            {"local_basic_code": "本地编码"},
            {},
            "local_basic_code",
            "地方编码只能包含字母、数字、点、下划线和连字符，且不超过64位",
        ),
        (
            "bad_local_implementation_code",
            {"local_implementation_code": "36 01 02"},
            {},
            "local_implementation_code",
            "地方编码只能包含字母、数字、点、下划线和连字符，且不超过64位",
        ),
        (
            "invalid_service_object_code",
            {"service_objects": ["1", "9"]},
            {},
            "service_objects",
            "“服务对象”含有无效代码",
        ),
        (
            "invalid_online_depth_code",
            {"online_depth": ["1", "9"]},
            {},
            "online_depth",
            "“网上办理深度”含有无效代码",
        ),
        (
            "conditional_material_without_condition",
            {},
            {"requirement": "conditional", "is_key": False},
            "materials[0]",
            "“居民身份证”为非必要材料，须说明提供情形",
        ),
        (
            "key_material_not_required",
            {},
            {"requirement": "conditional", "condition_note": "委托他人办理的"},
            "materials[0]",
            "“居民身份证”为关键材料，应为必要材料",
        ),
        (
            "paper_material_with_zero_copies",
            {},
            {"copies": 0},
            "materials[0]",
            "“居民身份证”须注明纸质份数",
        ),
        (
            "licence_result_without_licence_type",
            {"result_type": "licence", "result_licence_type": ""},
            {},
            "result_licence_type",
            "结果为证照的，须填写电子证照类型代码",
        ),
        (
            "malformed_result_licence_type",
            {"result_type": "licence", "result_licence_type": "身份证"},
            {},
            "result_licence_type",
            "电子证照类型代码格式不正确",
        ),
    ],
)
def test_publish_refuses_incomplete_items_and_writes_nothing(
    department, _case, overrides, material_overrides, field, message
) -> None:
    # given
    actor = superuser()
    item = services.create_item(
        actor=actor,
        department=department,
        fields={**element_fields(), **overrides},
        materials=materials(**material_overrides),
    )
    events_before = AuditEvent.objects.count()
    # when
    with pytest.raises(ValidationError) as exc_info:
        services.publish_item(actor=actor, item_id=item.pk)
    # then
    assert message in exc_info.value.message_dict[field]
    assert ItemVersion.objects.count() == 0
    assert ServiceItem.objects.get(pk=item.pk).status == ItemStatus.DRAFT
    assert AuditEvent.objects.count() == events_before


def test_department_admin_refused_on_another_departments_item(
    dept_admin, department, other_department
) -> None:
    # given
    other_item, _ = published_item(other_department)
    own_item = draft_item(department, actor=dept_admin)
    events_before = AuditEvent.objects.count()
    # when / then
    with pytest.raises(PermissionDenied):
        services.update_item(actor=dept_admin, item_id=other_item.pk, fields={"name": "越权修改"})
    with pytest.raises(PermissionDenied):
        services.publish_item(actor=dept_admin, item_id=other_item.pk)
    with pytest.raises(PermissionDenied):
        services.create_item(
            actor=dept_admin,
            department=other_department,
            fields=element_fields(),
        )
    assert ServiceItem.objects.get(pk=other_item.pk).name == other_item.name
    assert AuditEvent.objects.count() == events_before
    # own department works
    assert services.publish_item(actor=dept_admin, item_id=own_item.pk).version == 1


def test_api_client_confined_to_its_department(department, other_department) -> None:
    other_item, _ = published_item(other_department)
    client = ApiClientFactory(department=department)
    with pytest.raises(PermissionDenied):
        services.suspend_item(actor=client, item_id=other_item.pk, reason="测试")
    assert ServiceItem.objects.get(pk=other_item.pk).status == ItemStatus.PUBLISHED


def test_suspend_resume_retire(department) -> None:
    item, version = published_item(department)
    actor = superuser()
    services.suspend_item(actor=actor, item_id=item.pk, reason="系统升级")
    with pytest.raises(DomainError) as exc_info:
        selectors.get_item_for_apply(item.implementation_code)
    assert exc_info.value.code == "item_not_available"
    services.resume_item(actor=actor, item_id=item.pk)
    assert selectors.get_item_for_apply(item.implementation_code) == version
    services.retire_item(actor=actor, item_id=item.pk, reason="事项取消")
    with pytest.raises(DomainError) as exc_info:
        services.publish_item(actor=actor, item_id=item.pk)
    assert exc_info.value.code == "item_retired"
    assert [e.action for e in AuditEvent.objects.order_by("seq")][-3:] == [
        "catalog.item_suspended",
        "catalog.item_resumed",
        "catalog.item_retired",
    ]


def test_implementation_code_frozen_after_publish(department) -> None:
    item, _ = published_item(department)
    with pytest.raises(DomainError) as exc_info:
        services.update_item(
            actor=superuser(), item_id=item.pk, fields={"implementation_code": "X" * 31}
        )
    assert exc_info.value.code == "implementation_code_frozen"


@pytest.mark.parametrize(
    ("_case", "code", "message"),
    [
        ("foreign_uscc", "{other}{level}{basic}", "实施编码中的统一社会信用代码与实施主体不一致"),
        ("other_level", "{own}3{basic}", "实施编码中的行使层级与事项的行使层级不一致"),
        ("level_not_in_a2", "{own}8{basic}", "实施编码第19位应为行使层级代码（1-7）"),
        ("other_basic_code", "{own}{level}360000000001", "实施编码末段应为该事项的基本编码"),
        ("too_short", "{own}", "实施编码应由实施主体统一社会信用代码、行使层级代码和基本编码组成"),
    ],
)
def test_publish_refuses_a_malformed_implementation_code(
    department, other_department, _case, code, message
) -> None:
    fields = element_fields()
    code = code.format(
        own=department.uscc,
        other=other_department.uscc,
        level=fields["exercise_level"],
        basic=fields["basic_code"],
    )
    actor = superuser()
    item = services.create_item(
        actor=actor,
        department=department,
        fields={**fields, "implementation_code": code},
        materials=materials(),
    )
    with pytest.raises(ValidationError) as exc_info:
        services.publish_item(actor=actor, item_id=item.pk)
    assert message in exc_info.value.message_dict["implementation_code"]
    assert ItemVersion.objects.count() == 0


def test_a_longer_code_of_the_same_structure_is_published(department) -> None:
    # a 14-character basic code: the structure is checked, not the length alone
    _, version = published_item(department, basic_code="36000012345600")
    assert version.implementation_code == f"{department.uscc}2" + "36000012345600"
    assert len(version.implementation_code) == 33


def _with_variants(department, codes: list[str]) -> ServiceItem:
    fields = element_fields()
    code = f"{department.uscc}{fields['exercise_level']}{fields['basic_code']}"
    return services.create_item(
        actor=superuser(),
        department=department,
        fields=fields,
        materials=materials(),
        variants=[
            {"code": c.format(code=code), "name": f"办理项{i}", "description": f"情形{i}"}
            for i, c in enumerate(codes, start=1)
        ],
    )


def test_variants_are_published_with_the_version(department) -> None:
    # given
    item = _with_variants(department, ["{code}01", "{code}02"])
    # when
    version = services.publish_item(actor=superuser(), item_id=item.pk)
    # then: frozen with the version, in order; a later draft change leaves them
    assert [(v.code[-2:], v.name) for v in version.variants.order_by("order", "pk")] == [
        ("01", "办理项1"),
        ("02", "办理项2"),
    ]
    services.update_item(
        actor=superuser(),
        item_id=item.pk,
        fields={},
        variants=[{"code": f"{item.implementation_code}03", "name": "新办理项"}],
    )
    assert version.variants.count() == 2


@pytest.mark.parametrize(
    ("_case", "code", "message"),
    [
        ("not_under_the_item", "36010200000001", "业务办理项编码应以所属事项的实施编码开头"),
        ("lowercase_suffix", "{code}ab", "业务办理项编码的后缀格式不正确"),
        ("suffix_too_long", "{code}1234567", "业务办理项编码的后缀格式不正确"),
    ],
)
def test_publish_refuses_a_malformed_variant_code(department, _case, code, message) -> None:
    item = _with_variants(department, ["{code}01", code])
    with pytest.raises(ValidationError) as exc_info:
        services.publish_item(actor=superuser(), item_id=item.pk)
    assert exc_info.value.message_dict["variants[1]"] == [message]
    assert "variants[0]" not in exc_info.value.message_dict
    assert ItemVersion.objects.count() == 0


def _only_digits(code: str) -> list[str]:
    return [] if code.isdigit() else ["只能是数字"]


def _any_variant(code: str, *, implementation_code: str) -> list[str]:
    return []


def test_code_validators_can_be_replaced_in_settings(settings, department) -> None:
    # given: a province that uses its own basic-code rule and accepts any variant code
    settings.CATALOG_CODE_VALIDATORS = {
        "basic": "tests.catalog.test_services._only_digits",
        "variant": "tests.catalog.test_services._any_variant",
    }
    refused = services.create_item(
        actor=superuser(),
        department=department,
        fields=element_fields(basic_code="36AB00000001"),
        materials=materials(),
    )
    with pytest.raises(ValidationError) as exc_info:
        services.publish_item(actor=superuser(), item_id=refused.pk)
    assert exc_info.value.message_dict["basic_code"] == ["只能是数字"]
    # the other validators are still the defaults, and the replaced variant rule applies
    item = _with_variants(department, ["free-form variant"])
    version = services.publish_item(actor=superuser(), item_id=item.pk)
    assert version.variants.get().code == "free-form variant"


def test_variant_suffix_pattern_can_be_set(settings, department) -> None:
    settings.CATALOG_VARIANT_SUFFIX_PATTERN = r"^-[a-z]{3}$"
    refused = _with_variants(department, ["{code}01"])
    with pytest.raises(ValidationError) as exc_info:
        services.publish_item(actor=superuser(), item_id=refused.pk)
    assert exc_info.value.message_dict["variants[0]"] == ["业务办理项编码的后缀格式不正确"]
    accepted = _with_variants(department, ["{code}-abc"])
    assert services.publish_item(actor=superuser(), item_id=accepted.pk).variants.count() == 1
