"""Publishing a bundle version: the checks, immutability and pinning."""

from __future__ import annotations

from typing import Any

import pytest

from apps.bundles import services
from apps.bundles.constants import VersionStatus
from apps.bundles.models import BundleComponent, BundleEdge, BundleOutput, BundleQuestion
from apps.catalog import services as catalog_services
from apps.core.exceptions import DomainError
from tests.bundles.factories import birth_definition, birth_items
from tests.catalog.factories import published_item, superuser

pytestmark = pytest.mark.django_db


def _refused(version: Any) -> list[str]:
    with pytest.raises(services.PublishRefused) as exc:
        services.publish_bundle_version(actor=superuser(), version_id=version.pk)
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT
    return exc.value.problems


def test_publish_pins_item_versions_and_merges_fields_once(department) -> None:
    # given
    draft = birth_definition(department)
    # when
    version = services.publish_bundle_version(actor=superuser(), version_id=draft.pk)
    # then: every component pinned to its item's current version
    assert version.status == VersionStatus.PUBLISHED
    assert version.bundle.current_version_id == version.pk
    for component in version.components.all():
        assert component.item_version_id == component.item.current_version_id
    # the shared fields are asked once, each filling four components
    applicant = version.fields.get(key="applicant_name")
    assert applicant.targets.count() == 4
    # the number passed on from the birth certificate is not asked at all
    assert not version.fields.filter(key="birth_certificate_no").exists()
    assert version.materials.get(key="id-card").targets.count() == 4


def test_published_version_is_immutable(department) -> None:
    # given
    draft = birth_definition(department)
    version = services.publish_bundle_version(actor=superuser(), version_id=draft.pk)
    component = version.components.first()
    # when / then
    component.condition = "true"
    with pytest.raises(DomainError):
        component.save()
    with pytest.raises(DomainError):
        BundleEdge.objects.create(version=version, upstream="cert", downstream="ssc")


def test_new_version_leaves_the_old_one_pinned(department) -> None:
    # given: v1 published, the 出生登记 item republished afterwards
    items = birth_items(department)
    v1 = services.publish_bundle_version(
        actor=superuser(), version_id=birth_definition(department, items).pk
    )
    old_pin = v1.components.get(key="hukou").item_version_id
    item = items["hukou"]
    catalog_services.update_item(
        actor=superuser(), item_id=item.pk, fields={"promised_limit_days": 3}
    )
    catalog_services.publish_item(actor=superuser(), item_id=item.pk)
    # when
    draft = services.new_draft_version(actor=superuser(), bundle_id=v1.bundle_id)
    v2 = services.publish_bundle_version(actor=superuser(), version_id=draft.pk)
    # then
    v1.refresh_from_db()
    assert v1.status == VersionStatus.RETIRED
    assert v1.components.get(key="hukou").item_version_id == old_pin
    assert v2.version == 2
    assert v2.components.get(key="hukou").item_version_id != old_pin


@pytest.mark.parametrize(
    ("_case", "mutate", "expected"),
    [
        (
            "cycle",
            lambda v: BundleEdge.objects.create(version=v, upstream="insurance", downstream="cert"),
            "前后置关系存在循环：",
        ),
        (
            "dangling edge",
            lambda v: BundleEdge.objects.create(version=v, upstream="cert", downstream="ghost"),
            "引用了不存在的子事项“ghost”",
        ),
        (
            "self edge",
            lambda v: BundleEdge.objects.create(version=v, upstream="ssc", downstream="ssc"),
            "不能以自身为前置事项",
        ),
        (
            "mapping to a missing field",
            lambda v: BundleOutput.objects.create(
                version=v,
                source_component="cert",
                source_kind="licence",
                target_component="hukou",
                target_name="no_such_field",
            ),
            "申请表中没有字段“no_such_field”",
        ),
        (
            "mapping from a component that is not upstream",
            lambda v: BundleOutput.objects.create(
                version=v,
                source_component="insurance",
                source_kind="result_field",
                source_field="x",
                target_component="ssc",
                target_name="applicant_name",
            ),
            "“insurance”必须是“ssc”的前置事项",
        ),
        (
            "unknown question in a condition",
            lambda v: BundleComponent.objects.filter(version=v, key="ssc").update(
                condition="wants_card and needs_ssc"
            ),
            "引用了未知问题“wants_card”",
        ),
        (
            "syntax error in a condition",
            lambda v: BundleComponent.objects.filter(version=v, key="ssc").update(
                condition="needs_ssc and"
            ),
            "适用条件有误",
        ),
        (
            "unreachable component",
            lambda v: BundleComponent.objects.filter(version=v, key="ssc").update(
                condition="needs_ssc and not needs_ssc"
            ),
            "子事项“ssc”在任何回答下都不会办理（不可达）",
        ),
        (
            "question condition refers to a later question",
            lambda v: (
                BundleQuestion.objects.create(
                    version=v, key="early", text="先问的问题", condition="later", order=0
                )
                and BundleQuestion.objects.create(version=v, key="later", text="后问", order=9)
            ),
            "引用了未知或排在其后的问题“later”",
        ),
    ],
)
def test_publish_refuses_with_named_problem(department, _case: str, mutate, expected: str) -> None:
    # given
    draft = birth_definition(department)
    mutate(draft)
    # when
    problems = _refused(draft)
    # then
    assert any(expected in p for p in problems), problems


def test_conflicting_field_types_refused(department) -> None:
    # given: two items whose "reason" fields differ in type
    a, _v = published_item(department)
    b, _v = published_item(
        department,
        form_schema={
            "type": "object",
            "properties": {"reason": {"type": "integer", "title": "申领原因"}},
            "required": ["reason"],
        },
    )
    draft = services.define_bundle(
        actor=superuser(),
        code="conflict",
        name="冲突",
        lead_department=department,
        promised_limit_days=5,
        components=[{"key": "a", "item": a}, {"key": "b", "item": b}],
    )
    # when
    problems = _refused(draft)
    # then
    assert "合并申请表字段“reason”与子事项“b”的字段“reason”类型不一致" in problems


def test_output_whose_source_may_not_apply_is_refused(department) -> None:
    # given: the certificate is conditional but 出生登记 needs its number
    draft = birth_definition(department)
    BundleComponent.objects.filter(version=draft, key="cert").update(condition="needs_ssc")
    # when
    problems = _refused(draft)
    # then
    assert any("存在“hukou”办理而“cert”不办理的情形" in p for p in problems), problems


def test_only_drafts_publish(department) -> None:
    draft = birth_definition(department)
    services.publish_bundle_version(actor=superuser(), version_id=draft.pk)
    with pytest.raises(DomainError) as exc:
        services.publish_bundle_version(actor=superuser(), version_id=draft.pk)
    assert exc.value.code == "not_draft"
