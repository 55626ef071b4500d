"""Demo bundles built from the demo catalogue (Nanchang city implementations), as national-list
items (DOMAIN.md §5.2). Idempotent: a bundle whose code exists is left alone."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.bundles import services
from apps.bundles.constants import Audience
from apps.bundles.models import Bundle
from apps.catalog.models import ServiceItem, Theme
from apps.core.demo import DemoDataError
from apps.core.models import Department

# Departments of apps/core/data/demo_org.json (see apps/catalog/demo_items/base.py).
NHC, PSB, HSA, HRSS = (
    "11360100D00000179A",
    "11360100D00000144P",
    "11360100D000001950",
    "11360100D00000160D",
)
SAMR, APPROVAL = "11360100D00000152J", "11360100D000002326"
NR, MCA, HPF = "11360100D000001875", "11360100D00000208M", "12360100D000002248"
TAX = "11360000D00000128W"  # provincial tax bureau (the demo has no city tax office)
# Utility companies: 二手房水电气网联动过户 reaches them through the handoff outbox.
WATER, POWER, GAS, NETWORK = (
    "91360100D00000355Y",
    "91360100D00000363R",
    "91360100D00000371L",
    "91360100D00000398C",
)
UTILITIES = (WATER, POWER, GAS, NETWORK)

# The demo catalogue items the demo bundles are built from, ``(department, item name)``: a
# test loads just these (apps.catalog.demo.load_catalog_demo ``only_items``).
CATALOGUE_ITEMS: tuple[tuple[str, str], ...] = (
    (NHC, "出生医学证明办理"),
    (PSB, "出生登记（户口登记）"),
    (HSA, "城乡居民基本医疗保险参保登记"),
    (HRSS, "社会保障卡申领"),
    (NHC, "生育登记"),
    (SAMR, "营业执照（企业设立登记）"),
    (APPROVAL, "食品经营许可"),
    (NHC, "公共场所卫生许可"),
    (HRSS, "职工退休审批（基本养老金申领）"),
    (HSA, "退休人员基本医疗保险待遇核定"),
    (HPF, "住房公积金退休销户提取"),
    (HRSS, "社会保障卡补领、换领"),
    (NHC, "居民死亡医学证明（推断）书签发"),
    (PSB, "死亡人员户口注销"),
    (MCA, "殡葬（火化）服务及补助申领"),
    (HRSS, "丧葬补助金、抚恤金申领"),
    (HSA, "医保个人账户余额继承支取"),
    (HPF, "住房公积金提取（职工死亡或被宣告死亡）"),
    (NR, "不动产继承登记"),
    (SAMR, "企业变更登记"),
    (TAX, "税务登记信息变更"),
    (HRSS, "社会保险单位信息变更登记"),
    (HPF, "单位住房公积金缴存信息变更"),
    (NR, "不动产转移登记（二手房买卖）"),
    (WATER, "供水过户"),
    (POWER, "供电过户"),
    (GAS, "燃气过户"),
    (NETWORK, "有线电视及宽带过户"),
)


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


def _licence_to(source: str, slot: str, targets: list[str]) -> list[dict[str, Any]]:
    """The licence ``source`` issues, referenced (免提交) by ``slot`` of each target."""
    return [
        {
            "source_component": source,
            "source_kind": "licence",
            "target_component": target,
            "target_kind": "material",
            "target_name": slot,
        }
        for target in targets
    ]


def _retirement() -> dict[str, Any]:
    return {
        "code": "retirement",
        "name": "退休一件事",
        "summary": (
            "到达退休年龄时一次申请：退休审批和基本养老金核定后，同步办理退休人员医保待遇、"
            "住房公积金销户提取，需要时补换社会保障卡。"
        ),
        "audience": Audience.PERSON,
        "theme": _theme("retirement"),
        "batch": "国家2024年第一批重点事项",
        "lead_department": Department.objects.get(uscc=HRSS),
        "partner_departments": _departments(HSA, HPF),
        "promised_limit_days": 15,
        "components": [
            {"key": "pension", "item": _item(HRSS, "职工退休审批（基本养老金申领）")},
            {"key": "medical", "item": _item(HSA, "退休人员基本医疗保险待遇核定")},
            {
                "key": "provident_fund",
                "item": _item(HPF, "住房公积金退休销户提取"),
                "condition": "has_provident_fund",
            },
            {
                "key": "ssc",
                "item": _item(HRSS, "社会保障卡补领、换领"),
                "condition": "needs_new_ssc",
            },
        ],
        # 医保待遇 and 公积金提取 wait for the approval; the card is independent of both.
        "edges": [("pension", "medical"), ("pension", "provident_fund")],
        "questions": [
            {
                "key": "has_provident_fund",
                "text": "您是否缴存过住房公积金？",
                "help_text": "缴存过的，退休后可一并销户提取，退休证明由人社部门共享，无需提交。",
            },
            {"key": "needs_new_ssc", "text": "您的社会保障卡是否遗失或损坏，需要补换？"},
        ],
        # Only what the citizen has: the retirement proof comes from the approval (shared).
        "merge_materials": False,
        "materials": [
            {
                "key": "id-card",
                "name": "申请人居民身份证",
                "targets": [
                    ("pension", "id-card"),
                    ("medical", "id-card"),
                    ("provident_fund", "id-card"),
                    ("ssc", "id-card"),
                ],
            },
            {"key": "archive", "name": "本人人事档案", "targets": [("pension", "archive")]},
            {
                "key": "social-security-card",
                "name": "社会保障卡",
                "targets": [("pension", "social-security-card")],
            },
            {"key": "bank", "name": "待遇发放银行账户信息", "targets": [("medical", "bank")]},
            {"key": "photo", "name": "近期免冠彩色证件照片", "targets": [("ssc", "photo")]},
        ],
    }


def _after_death() -> dict[str, Any]:
    downstream = ["hukou", "cremation", "funeral_benefit", "medical_account", "fund", "estate"]
    return {
        "code": "after-death",
        "name": "身后一件事",
        "summary": (
            "亲人离世后一次申请：开具死亡医学证明后，同步办理户口注销、火化殡葬，以及丧葬补助金"
            "和抚恤金、医保个人账户、住房公积金、房产继承等事项，死亡证明不必重复提交。"
        ),
        "audience": Audience.PERSON,
        "theme": _theme("after-death"),
        "batch": "国家2024年第一批重点事项",
        "lead_department": Department.objects.get(uscc=PSB),
        "partner_departments": _departments(NHC, MCA, HRSS, HSA, HPF, NR),
        "promised_limit_days": 15,
        "components": [
            {"key": "death_certificate", "item": _item(NHC, "居民死亡医学证明（推断）书签发")},
            {"key": "hukou", "item": _item(PSB, "死亡人员户口注销")},
            {"key": "cremation", "item": _item(MCA, "殡葬（火化）服务及补助申领")},
            {
                "key": "funeral_benefit",
                "item": _item(HRSS, "丧葬补助金、抚恤金申领"),
                "condition": "had_pension_insurance",
            },
            {
                "key": "medical_account",
                "item": _item(HSA, "医保个人账户余额继承支取"),
                "condition": "had_medical_account",
            },
            {
                "key": "fund",
                "item": _item(HPF, "住房公积金提取（职工死亡或被宣告死亡）"),
                "condition": "had_provident_fund",
            },
            {
                "key": "estate",
                "item": _item(NR, "不动产继承登记"),
                "condition": "inherits_property",
            },
        ],
        # The certificate first; the benefits and the estate after the 户口 is closed.
        "edges": [
            ("death_certificate", "hukou"),
            ("death_certificate", "cremation"),
            ("hukou", "funeral_benefit"),
            ("hukou", "medical_account"),
            ("hukou", "fund"),
            ("hukou", "estate"),
        ],
        "questions": [
            {
                "key": "had_pension_insurance",
                "text": "逝者生前是否参加企业职工养老保险或领取养老金？",
                "help_text": "参加的，家属可申领丧葬补助金和抚恤金。",
            },
            {"key": "had_medical_account", "text": "逝者是否参加职工医保（有个人账户余额）？"},
            {"key": "had_provident_fund", "text": "逝者是否缴存住房公积金？"},
            {"key": "inherits_property", "text": "是否需要办理逝者名下房产的继承登记？"},
        ],
        # The death certificate is issued into the wallet and referenced by every later step.
        "outputs": _licence_to("death_certificate", "death-certificate", downstream),
    }


def _enterprise_change() -> dict[str, Any]:
    return {
        "code": "enterprise-change",
        "name": "企业信息变更一件事",
        "summary": (
            "企业名称、住所、法定代表人等变更登记后，税务、社保、住房公积金的单位信息同步变更，"
            "新营业执照不必重复提交。"
        ),
        "audience": Audience.ENTERPRISE,
        "theme": _theme("change"),
        "batch": "国家2024年第一批重点事项",
        "lead_department": Department.objects.get(uscc=SAMR),
        "partner_departments": _departments(TAX, HRSS, HPF),
        "promised_limit_days": 5,
        "components": [
            {"key": "registration", "item": _item(SAMR, "企业变更登记")},
            {"key": "tax", "item": _item(TAX, "税务登记信息变更")},
            {
                "key": "social_insurance",
                "item": _item(HRSS, "社会保险单位信息变更登记"),
                "condition": "has_employees",
            },
            {
                "key": "provident_fund",
                "item": _item(HPF, "单位住房公积金缴存信息变更"),
                "condition": "has_provident_fund",
            },
        ],
        "edges": [
            ("registration", "tax"),
            ("registration", "social_insurance"),
            ("registration", "provident_fund"),
        ],
        "questions": [
            {"key": "has_employees", "text": "本单位是否已办理社会保险登记（有参保职工）？"},
            {"key": "has_provident_fund", "text": "本单位是否已开立住房公积金缴存账户？"},
        ],
        # The licence issued on the change goes to tax, social insurance and provident fund.
        "outputs": _licence_to(
            "registration", "business-licence", ["tax", "social_insurance", "provident_fund"]
        ),
    }


def _home_transfer() -> dict[str, Any]:
    utilities = ["water", "power", "gas", "network"]
    return {
        "code": "home-transfer",
        "name": "二手房转移登记及水电气网联动过户",
        "summary": (
            "二手房买卖办理不动产转移登记时一次申请，登记完成后供水、供电、燃气、有线电视及宽带"
            "同步过户到买方名下，不必再到各公司跑腿。"
        ),
        "audience": Audience.PERSON,
        "theme": _theme("housing"),
        "batch": "国家2024年第一批重点事项",
        "lead_department": Department.objects.get(uscc=NR),
        "partner_departments": _departments(*UTILITIES),
        "promised_limit_days": 8,
        "components": [
            {"key": "transfer", "item": _item(NR, "不动产转移登记（二手房买卖）")},
            {"key": "water", "item": _item(WATER, "供水过户")},
            {"key": "power", "item": _item(POWER, "供电过户")},
            {"key": "gas", "item": _item(GAS, "燃气过户"), "condition": "has_gas"},
            {
                "key": "network",
                "item": _item(NETWORK, "有线电视及宽带过户"),
                "condition": "has_network",
            },
        ],
        "edges": [("transfer", u) for u in utilities],
        "questions": [
            {"key": "has_gas", "text": "该房屋是否已开通管道燃气？"},
            {"key": "has_network", "text": "是否需要同时过户有线电视或宽带？"},
        ],
        # The buyer's new 不动产权证书 (in the wallet) is what each company checks.
        "outputs": _licence_to("transfer", "property-certificate", utilities),
    }


BUILDERS = (_birth, _restaurant, _retirement, _after_death, _enterprise_change, _home_transfer)


def load_bundles_demo(*, stdout: Any) -> dict[str, int]:
    """Define and publish the demo bundles that do not exist yet.

    A bundle that its (older) catalogue items no longer let publish — a demo database loaded
    before a demo item changed, which the catalogue loader leaves alone — is reported and left
    out (nothing written), so that reloading such a database does not stop ``loaddemo``."""
    created = existing = refused = 0
    for build in BUILDERS:
        spec = build()
        if Bundle.objects.filter(code=spec["code"]).exists():
            existing += 1
            continue
        try:
            with transaction.atomic():
                draft = services.define_bundle(actor=None, **spec)
                services.publish_bundle_version(actor=None, version_id=draft.pk)
        except services.PublishRefused as exc:
            refused += 1
            stdout.write(f"  一件事: {spec['name']} 未能发布（{exc.message}）\n")
            continue
        created += 1
    stdout.write(f"  一件事: 新增 {created} 个，已存在 {existing} 个\n")
    return {"bundles_created": created, "bundles_existing": existing, "bundles_refused": refused}
