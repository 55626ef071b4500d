"""The licence catalogue is what catalog reads through its seam (apps.catalog.licence_types)."""

import pytest

from django.core.exceptions import ValidationError

from apps.catalog import services as catalog_services
from apps.catalog.licence_types import (
    LICENCE_TYPE_LIST,
    get_licence_type,
    is_known_licence_type,
    licence_type_table,
)
from apps.catalog.models import DraftMaterial
from apps.licences.catalogue import invalidate_catalogue
from apps.licences.models import LicenceType
from apps.licences.services import validate_face_data
from tests.catalog.factories import draft_item, published_item, superuser
from tests.licences.factories import licence_type

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_catalogue():
    invalidate_catalogue()
    yield
    invalidate_catalogue()


def test_every_seed_type_is_in_the_catalogue_with_its_gbt_36902_fields():
    assert LicenceType.objects.count() == len(LICENCE_TYPE_LIST)
    business = licence_type("营业执照")
    assert (business.holder_kind, business.holder_code_type, business.validity_rule) == (
        "enterprise",
        "001",
        "long_term",
    )
    assert business.definer_name == "国家市场监督管理总局"
    assert {f["key"] for f in business.face_fields} >= {"MC", "JYFW"}


def test_catalog_reads_the_licence_catalogue_not_the_seed_list():
    # given: a type switched off in the catalogue
    driving = licence_type("机动车驾驶证")
    LicenceType.objects.filter(pk=driving.pk).update(is_active=False, name="机动车驾驶证（停用）")
    invalidate_catalogue()

    # then: catalog no longer knows it, though the seed list still names it
    assert not is_known_licence_type(driving.code)
    assert get_licence_type(driving.code) is None
    assert len(licence_type_table()) == len(LICENCE_TYPE_LIST) - 1


def test_face_template_is_a_json_schema():
    schema = licence_type("机动车驾驶证").face_schema()
    assert schema["required"] == ["XM"]
    assert schema["additionalProperties"] is False
    assert validate_face_data(licence_type("机动车驾驶证"), {"XM": "张三", "ZJCX": ""}) == {
        "XM": "张三"
    }


def test_items_and_materials_name_only_catalogued_types(department):
    # given: an item whose result type and material type are not in the licence catalogue
    unknown = "11100000000013338W999"
    item = draft_item(department, actor=superuser(), result_licence_type=unknown)
    DraftMaterial.objects.filter(item=item).update(licence_types=[unknown])
    # when it is published, then both are refused by name
    with pytest.raises(ValidationError) as refused:
        catalog_services.publish_item(actor=superuser(), item_id=item.pk)
    problems = refused.value.message_dict
    assert problems["result_licence_type"] == ["电子证照类型不在证照目录中"]
    assert any(
        "不在证照目录中" in m for k, v in problems.items() if k.startswith("materials") for m in v
    )
    # and a catalogued type publishes
    _item, version = published_item(department, result_licence_type=licence_type().code)
    assert version.result_licence_type == licence_type().code
