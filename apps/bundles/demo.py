"""Demo bundles built from the demo catalogue (Nanchang city implementations), as national-list
items (DOMAIN.md §5.2). Idempotent: a bundle whose code exists is left alone."""

from __future__ import annotations

from typing import Any

from apps.bundles import services
from apps.bundles.constants import Audience
from apps.bundles.models import Bundle
from apps.catalog.models import ServiceItem, Theme
from apps.core.demo import DemoDataError
from apps.core.models import Department

# City-level departments of apps/core/data/demo_org.json (see apps/catalog/demo_items.py).
NHC, PSB, HSA, HRSS = (
    "11360100D00000179A",
    "11360100D00000144P",
    "11360100D000001950",
    ("11360100D00000160D"),
)
SAMR, APPROVAL = "11360100D00000152J", "11360100D000002326"


def _item(uscc: str, name: str) -> ServiceItem:
    item = (
        ServiceItem.objects.filter(department__uscc=uscc, name=name)
        .select_related("current_version")
        .first()
    )
    if item is None or item.current_version_id is None:
        raise DemoDataError(f"bundles demo: catalogue item {name} of {uscc} not published")
    return item


def _theme(code: str) -> Theme | None:
    return Theme.objects.filter(code=code).first()


def _departments(*usccs: str) -> list[Department]:
    return list(Department.objects.filter(uscc__in=usccs))


def _birth() -> dict[str, Any]:
    return {
        "code": "newborn",
        "name": "新生儿出生一件事",
        "summary": (
            "新生儿出生后，一次申请即可办理出生医学证明、户口登记、医保参保、社会保障卡等事项。"
        ),
        "audience": Audience.PERSON,
        "theme": _theme("birth"),
        "batch": "国家2024年第一批重点事项",
        "lead_department": Department.objects.get(uscc=NHC),
        "partner_departments": _departments(PSB, HSA, HRSS),
        "promised_limit_days": 10,
        "components": [
            {"key": "birth_certificate", "item": _item(NHC, "出生医学证明办理")},
            {"key": "hukou", "item": _item(PSB, "出生登记（户口登记）")},
            {"key": "insurance", "item": _item(HSA, "城乡居民基本医疗保险参保登记")},
            {"key": "ssc", "item": _item(HRSS, "社会保障卡申领"), "condition": "needs_ssc"},
            {
                "key": "birth_registration",
                "item": _item(NHC, "生育登记"),
                "condition": "not registered_birth",
            },
        ],
        "edges": [
            ("birth_certificate", "hukou"),
            ("hukou", "insurance"),
            ("hukou", "ssc"),
        ],
        "questions": [
            {
                "key": "registered_birth",
                "text": "是否已办理生育登记？",
                "help_text": "未办理的，将一并为您办理生育登记。",
            },
            {"key": "needs_ssc", "text": "是否需要为新生儿申领社会保障卡？"},
        ],
        "materials": [
            {
                "key": "application-form",
                "name": "《新生儿出生一件事联办申请表》（签字版）",
                "targets": [("hukou", "application-form")],
            }
        ],
        "outputs": [
            # The 出生医学证明 issued into the wallet is referenced by 出生登记 (免提交).
            {
                "source_component": "birth_certificate",
                "source_kind": "licence",
                "target_component": "hukou",
                "target_kind": "material",
                "target_name": "birth-certificate",
            }
        ],
    }


def _restaurant() -> dict[str, Any]:
    return {
        "code": "restaurant",
        "name": "开办餐饮店一件事",
        "summary": "一次申请，办理营业执照后同步办理食品经营许可和公共场所卫生许可。",
        "audience": Audience.PERSON,
        "theme": _theme("start-up"),
        "batch": "国家2024年第一批重点事项",
        "lead_department": Department.objects.get(uscc=SAMR),
        "partner_departments": _departments(APPROVAL, NHC),
        "promised_limit_days": 7,
        "components": [
            {"key": "business_licence", "item": _item(SAMR, "营业执照（企业设立登记）")},
            {"key": "food_licence", "item": _item(APPROVAL, "食品经营许可")},
            {
                "key": "hygiene_licence",
                "item": _item(NHC, "公共场所卫生许可"),
                "condition": "has_public_area",
            },
        ],
        "edges": [("business_licence", "food_licence"), ("business_licence", "hygiene_licence")],
        "questions": [
            {
                "key": "has_public_area",
                "text": "店内是否设有供顾客使用的公共场所（如就餐大厅超过规定面积）？",
            }
        ],
        "materials": [
            {
                "key": "application-form",
                "name": "《开办餐饮店一件事联办申请表》（签字版）",
                "targets": [
                    ("business_licence", "application-form"),
                    ("food_licence", "application-form"),
                    ("hygiene_licence", "application-form"),
                ],
            }
        ],
        "outputs": [
            {
                "source_component": "business_licence",
                "source_kind": "licence",
                "target_component": target,
                "target_kind": "material",
                "target_name": "business-licence",
            }
            for target in ("food_licence", "hygiene_licence")
        ],
    }


def load_bundles_demo(*, stdout: Any) -> dict[str, int]:
    """Define and publish the demo bundles that do not exist yet."""
    created = existing = 0
    for build in (_birth, _restaurant):
        spec = build()
        if Bundle.objects.filter(code=spec["code"]).exists():
            existing += 1
            continue
        draft = services.define_bundle(actor=None, **spec)
        services.publish_bundle_version(actor=None, version_id=draft.pk)
        created += 1
    stdout.write(f"  一件事: 新增 {created} 个，已存在 {existing} 个\n")
    return {"bundles_created": created, "bundles_existing": existing}
