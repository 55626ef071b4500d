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
