"""Catalogue test data: complete, publishable element sets built through the services."""

from __future__ import annotations

import itertools
from typing import Any

from apps.catalog import services
from apps.catalog.constants import CaseKind, Channel, ExerciseLevel, ItemType
from apps.catalog.licence_types import licence_type_code
from apps.catalog.models import ItemVersion, ServiceItem
from apps.core.models import Department
from tests.identity.factories import UserFactory

_codes = itertools.count(1)

APPLICATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "x-order": ["applicant_name", "id_number", "mobile", "reason", "move_date", "agree"],
    "properties": {
        "applicant_name": {"type": "string", "title": "申请人姓名", "maxLength": 20},
        "id_number": {"type": "string", "title": "身份证号码", "x-format": "id-number"},
        "mobile": {"type": "string", "title": "联系电话", "x-format": "mobile"},
        "reason": {
            "type": "string",
            "title": "申领原因",
            "enum": ["first", "renew", "lost"],
            "x-enumNames": ["首次申领", "到期换领", "遗失补领"],
        },
        "move_date": {"type": "string", "title": "迁入日期", "format": "date"},
        "agree": {"type": "boolean", "title": "本人承诺所填信息真实有效"},
    },
    "required": ["applicant_name", "id_number", "mobile", "reason", "agree"],
}


def element_fields(**overrides: Any) -> dict[str, Any]:
    """Every element a publishable item needs (DOMAIN.md §1.4)."""
    n = next(_codes)
    fields: dict[str, Any] = {
        "name": f"测试事项{n}",
        "basic_code": f"{n:012d}",
        "item_type": ItemType.LICENSING,
        "exercise_level": ExerciseLevel.PROVINCE,
        "legal_basis": "《中华人民共和国行政许可法》",
        "service_objects": ["1"],
        "handling_forms": ["1", "2"],
        "online_depth": ["1", "2", "3", "4"],
        "conditions": "申请人具有完全民事行为能力",
        "process_steps": [{"name": "受理"}, {"name": "审查"}, {"name": "决定"}],
        "result_name": "准予许可决定书",
        "handling_address": "江西省政务服务中心一楼",
        "handling_time": "工作日 9:00-17:00",
        "consult_phone": "0791-12345",
        "complaint_phone": "12345",
        "legal_limit_days": 20,
        "promised_limit_days": 5,
        "case_kind": CaseKind.PROMISED,
        "channel": Channel.BOTH,
        "form_schema": APPLICATION_SCHEMA,
    }
    fields.update(overrides)
    return fields


def materials(**overrides: Any) -> list[dict[str, Any]]:
    return [
        {
            "key": "id-card",
            "name": "居民身份证",
            "form": "original",
            "copies": 1,
            "source": "government",
            "is_key": True,
            "licence_types": [licence_type_code("居民身份证")],
            **overrides,
        },
        {
            "key": "application",
            "name": "申请表",
            "form": "original",
            "copies": 1,
            "source": "applicant",
        },
    ]


def superuser() -> Any:
    return UserFactory(admin=True)


def draft_item(department: Department, *, actor: Any = None, **overrides: Any) -> ServiceItem:
    return services.create_item(
        actor=actor or superuser(),
        department=department,
        fields=element_fields(**overrides),
        materials=materials(),
    )


def published_item(department: Department, **overrides: Any) -> tuple[ServiceItem, ItemVersion]:
    actor = superuser()
    item = draft_item(department, actor=actor, **overrides)
    version = services.publish_item(actor=actor, item_id=item.pk)
    item.refresh_from_db()
    return item, version
