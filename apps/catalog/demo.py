"""Demo catalogue for ``manage.py loaddemo``: ~200 published items over the demo departments.

Idempotent: an item whose implementation code already exists is left alone (a department may
have edited it since). Each new item is created and published through the services as the
platform (``SYSTEM``), so it passes the same publish validation and gets its audit events.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from apps.catalog.constants import Channel
from apps.catalog.demo_items import DEPARTMENTS, ITEMS, LEGAL_BASES, M, T
from apps.catalog.licence_types import licence_type_code
from apps.catalog.models import BasicItem, ServiceItem
from apps.catalog.permissions import SYSTEM
from apps.catalog.services import create_item, ensure_themes, publish_item
from apps.core.demo import DemoDataError, Writer
from apps.core.models import Department, ServiceWindow

# The common items named in issue 4, plus other high-volume ones: ranked first on near-ties.
POPULAR = {
    "居民身份证申领",
    "出生医学证明办理",
    "出生登记（户口登记）",
    "食品经营许可",
    "营业执照（企业设立登记）",
    "不动产登记（首次登记）",
    "不动产转移登记（二手房买卖）",
    "社会保障卡申领",
    "普通护照签发",
    "住房公积金提取（购房）",
    "内地居民结婚登记",
    "异地就医备案",
}

EXERCISE_LEVELS = {"province": "2", "city": "3", "county": "4"}

_PERSON = ["person"]
_UNIT = ["enterprise", "agent"]

# One application form for every demo item, its fields per applicant kind (issue 16 §5;
# apps.catalog.forms "x-applicant-kinds"): a person applying for themselves is asked for their
# own particulars and promises as 本人; an enterprise (or its agent) for the unit's and
# promises as 本单位; an agent also gives their own name and ID number.
APPLICATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "x-order": [
        "applicant_name",
        "id_number",
        "enterprise_name",
        "uscc",
        "contact_name",
        "agent_name",
        "agent_id_number",
        "mobile",
        "address",
        "note",
        "agree",
        "agree_unit",
    ],
    "properties": {
        "applicant_name": {
            "type": "string",
            "title": "申请人姓名",
            "maxLength": 30,
            "x-applicant-kinds": _PERSON,
        },
        "id_number": {
            "type": "string",
            "title": "公民身份号码",
            "x-format": "id-number",
            "x-applicant-kinds": _PERSON,
        },
        "enterprise_name": {
            "type": "string",
            "title": "单位名称",
            "maxLength": 100,
            "x-applicant-kinds": _UNIT,
        },
        "uscc": {
            "type": "string",
            "title": "统一社会信用代码",
            "x-format": "uscc",
            "x-applicant-kinds": _UNIT,
        },
        "contact_name": {
            "type": "string",
            "title": "联系人姓名",
            "maxLength": 30,
            "x-applicant-kinds": ["enterprise"],
        },
        "agent_name": {
            "type": "string",
            "title": "经办人姓名",
            "maxLength": 30,
            "x-applicant-kinds": ["agent"],
        },
        "agent_id_number": {
            "type": "string",
            "title": "经办人身份证号码",
            "x-format": "id-number",
            "x-applicant-kinds": ["agent"],
        },
        "mobile": {"type": "string", "title": "联系电话", "x-format": "mobile"},
        "address": {"type": "string", "title": "联系地址", "maxLength": 200},
        "note": {"type": "string", "title": "补充说明", "maxLength": 500, "x-widget": "textarea"},
        "agree": {
            "type": "boolean",
            "title": "本人承诺所填信息及所交材料真实有效",
            "x-applicant-kinds": _PERSON,
        },
        "agree_unit": {
            "type": "boolean",
            "title": "本单位承诺所填信息及所交材料真实有效",
            "x-applicant-kinds": _UNIT,
        },
    },
    "required": [
        "applicant_name",
        "id_number",
        "enterprise_name",
        "uscc",
        "contact_name",
        "agent_name",
        "agent_id_number",
        "mobile",
        "agree",
        "agree_unit",
    ],
}


PROMISED_STEPS = [
    {"name": "申请", "description": "网上提交或到窗口提交申请材料"},
    {"name": "受理", "description": "材料齐全、符合法定形式的予以受理；不齐全的一次性告知补正"},
    {"name": "审查", "description": "对申请材料进行审查，必要时核查"},
    {"name": "决定", "description": "作出准予或不予的决定"},
    {"name": "送达", "description": "窗口领取、邮寄送达或电子证照推送"},
]
INSTANT_STEPS = [
    {"name": "申请", "description": "网上提交或到窗口提交申请材料"},
    {"name": "受理并办结", "description": "材料齐全的当场办结"},
]


def _basic_code(index: int, template: T) -> str:
    # Demo layout: type code (2) + item (5) + sub-item (3) + "00" = 12 characters.
    return f"{template.item_type}{index:05d}00000"


def _material(m: M, order: int) -> dict[str, Any]:
    return {
        "key": m.key,
        "name": m.name,
        "requirement": m.requirement,
        "condition_note": m.condition,
        "form": m.form,
        "copies": m.copies,
        "source": m.source,
        "is_key": m.is_key,
        "licence_types": [licence_type_code(m.licence)] if m.licence else [],
        "shared_sources": list(m.shared),
        "order": order,
    }


def _where(department: Department) -> dict[str, str]:
    window = (
        ServiceWindow.objects.filter(departments=department, is_active=True)
        .select_related("hall")
        .order_by("hall__code", "number")
        .first()
    )
    if window is None:
        return {"handling_address": department.address or department.name, "handling_time": ""}
    hall = window.hall
    return {
        "handling_address": f"{hall.name}（{hall.address}）{window.number}号窗口",
        "handling_time": hall.opening_hours,
    }


def _fields(t: T, department: Department, basic_code: str, level: str) -> dict[str, Any]:
    enterprise = t.audience == "enterprise"
    online = t.channel != Channel.WINDOW
    depth = ["1", "2", "3", "4", "5", "6"] + (["7"] if t.result_licence else [])
    place = _where(department)
    return {
        "name": t.name,
        "name_en": t.name_en,
        "basic_code": basic_code,
        "item_type": t.item_type,
        "exercise_level": level,
        "legal_basis": LEGAL_BASES[t.kind],
        "keywords": t.keywords,
        "service_objects": ["2", "3", "4"] if enterprise else ["1"],
        "handling_body": department.name,
        "legal_limit_days": t.legal,
        "promised_limit_days": t.promised,
        "case_kind": t.case_kind,
        "visits_required": t.visits,
        "visits_reason": t.visits_reason,
        "handling_forms": {"both": ["1", "2", "3"], "online": ["2", "3"], "window": ["1"]}[
            t.channel
        ],
        "online_depth": depth if online else ["1"],
        "channel": t.channel,
        "supports_appointment": True,
        "supports_express": bool(t.result_licence),
        "supports_online_payment": t.fee is not None,
        "handling_address": place["handling_address"],
        "handling_time": place["handling_time"] or "工作日 9:00-12:00，13:30-17:00",
        "consult_phone": department.phone or "12345",
        "complaint_phone": "12345",
        "conditions": t.conditions
        or (
            "申请人为依法设立的企业或其他组织；申请材料齐全、符合法定形式。"
            if enterprise
            else "申请人为具有完全民事行为能力的自然人，或由其监护人、受托人代为申请；"
            "申请材料齐全、符合法定形式。"
        ),
        "process_steps": INSTANT_STEPS if t.case_kind == "instant" else PROMISED_STEPS,
        "result_name": t.result,
        "result_type": t.result_type,
        "result_licence_type": licence_type_code(t.result_licence) if t.result_licence else "",
        "is_free": t.fee is None,
        "fee_items": (
            [{"name": t.fee[0], "standard": t.fee[1], "basis": t.fee[2], "reducible": False}]
            if t.fee
            else []
        ),
        "min_assurance_level": t.min_level,
        "form_schema": APPLICATION_SCHEMA if online else {},
        "allows_tolerance": t.tolerance,
    }


def load_catalog_demo(
    *,
    stdout: Writer,
    only_items: Collection[str] | None = None,
    only_departments: Collection[str] | None = None,
) -> dict[str, int]:
    """Create and publish the demo items that do not exist yet. Idempotent.

    ``only_items`` (item names) and ``only_departments`` (USCCs) narrow the load to a few
    implementations, for tests that need some demo items (the demo bundles) and not all ~200;
    every item keeps the basic code of its place in the full list."""
    themes_created = ensure_themes()
    usccs = {u for kinds in DEPARTMENTS.values() for us in kinds.values() for u in us}
    if only_departments is not None:
        usccs &= set(only_departments)
    departments = Department.objects.in_bulk(list(usccs), field_name="uscc")
    missing = usccs - set(departments)
    if missing:
        raise DemoDataError(f"catalog demo: departments not loaded: {sorted(missing)}")
    existing = set(ServiceItem.objects.values_list("implementation_code", flat=True))
    created = skipped = 0
    for index, template in enumerate(ITEMS, start=1):
        if only_items is not None and template.name not in only_items:
            continue
        basic_code = _basic_code(index, template)
        BasicItem.objects.update_or_create(
            basic_code=basic_code,
            defaults={
                "name": template.name,
                "item_type": template.item_type,
                "legal_basis": LEGAL_BASES[template.kind],
            },
        )
        for level_name in template.levels:
            level = EXERCISE_LEVELS[level_name]
            for uscc in DEPARTMENTS[template.kind].get(level_name, []):
                department = departments.get(uscc)
                if department is None:  # outside ``only_departments``
                    continue
                code = f"{uscc}{level}{basic_code}"
                if code in existing:
                    skipped += 1
                    continue
                item = create_item(
                    actor=SYSTEM,
                    department=department,
                    fields=_fields(template, department, basic_code, level),
                    materials=[_material(m, i) for i, m in enumerate(template.materials)],
                    variants=[
                        {"code": f"{code}{i:02d}", "name": name, "order": i}
                        for i, name in enumerate(template.variants, start=1)
                    ],
                    theme_codes=template.themes,
                )
                if template.name in POPULAR:
                    ServiceItem.objects.filter(pk=item.pk).update(popularity=500)
                publish_item(actor=SYSTEM, item_id=item.pk, change_note="演示数据")
                created += 1
    stdout.write(f"  政务服务事项: 新增 {created} 个，已存在 {skipped} 个\n")
    return {"items_created": created, "items_existing": skipped, "themes_created": themes_created}
