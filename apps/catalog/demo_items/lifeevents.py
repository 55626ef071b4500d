"""Demo items that the demo 一件事 bundles need beyond the common ones (DOMAIN.md §5.2): the
death certificate, retirement medical insurance, provident-fund and enterprise-change steps, and
the water, power, gas and network transfers of 二手房联动过户, whose implementing "departments" are
the utility companies (handed off through the outbox like any department)."""

from __future__ import annotations

from apps.catalog.demo_items.base import (
    BIZ,
    DEATH,
    ID_CARD,
    PROPERTY,
    M,
    T,
)

_UTILITY_ACCOUNT = M("utility-account", "原户主缴费户号或最近一期缴费凭证", form="copy")


def _transfer(name: str, kind: str, keywords: str) -> T:
    """A utility account transferred to the new owner after the property transfer."""
    return T(
        name,
        kind,
        ["city"],
        "20",
        ["housing"],
        [ID_CARD, PROPERTY, _UTILITY_ACCOUNT],
        keywords,
        legal=5,
        promised=3,
        result=f"{name}办理结果（新户名、户号）",
    )


LIFE_EVENTS: list[T] = [
    T(
        "居民死亡医学证明（推断）书签发",
        "nhc",
        ["province", "city"],
        "07",
        ["after-death"],
        [ID_CARD, M("death-record", "医疗机构死亡记录或公安机关死亡证明")],
        "死亡证明 开死亡证明 死亡医学证明",
        legal=5,
        promised=1,
        result="居民死亡医学证明（推断）书",
        result_type="licence",
        result_licence="居民死亡医学证明（推断）书",
    ),
    T(
        "退休人员基本医疗保险待遇核定",
        "hsa",
        ["province", "city", "county"],
        "05",
        ["retirement", "medical"],
        [ID_CARD, M("bank", "待遇发放银行账户信息")],
        "退休医保 退休后医保 医保退休待遇",
        legal=20,
        promised=5,
        result="退休人员医保待遇核定结果",
    ),
    T(
        "医保个人账户余额继承支取",
        "hsa",
        ["province", "city", "county"],
        "05",
        ["after-death", "medical"],
        [DEATH, M("relationship", "申领人与逝者的亲属关系证明"), M("bank", "申领人银行账户信息")],
        "医保账户继承 医保余额 逝者医保",
        legal=20,
        promised=10,
        result="医保个人账户余额支付结果",
    ),
    T(
        "住房公积金提取（职工死亡或被宣告死亡）",
        "hpf",
        ["city"],
        "20",
        ["after-death", "housing"],
        [DEATH, M("relationship", "继承人或受遗赠人身份及关系证明"), M("bank", "银行账户信息")],
        "逝者公积金 继承公积金 死亡提取公积金",
        legal=10,
        promised=5,
        result="住房公积金提取结果",
    ),
    T(
        "税务登记信息变更",
        "tax",
        ["province"],
        "20",
        ["change", "tax"],
        [BIZ],
        "税务变更 变更税务登记 改名后税务",
        audience="enterprise",
        legal=5,
        promised=1,
        result="税务登记信息变更结果",
    ),
    T(
        "社会保险单位信息变更登记",
        "hrss",
        ["province", "city", "county"],
        "20",
        ["change"],
        [BIZ],
        "社保单位变更 单位社保信息变更",
        audience="enterprise",
        legal=5,
        promised=1,
        result="社会保险单位信息变更结果",
    ),
    T(
        "单位住房公积金缴存信息变更",
        "hpf",
        ["city"],
        "20",
        ["change"],
        [BIZ],
        "公积金单位变更 单位公积金信息变更",
        audience="enterprise",
        legal=5,
        promised=1,
        result="单位住房公积金缴存信息变更结果",
    ),
    _transfer("供水过户", "water", "水表过户 自来水过户 水费户名"),
    _transfer("供电过户", "power", "电表过户 电费户名 用电更名"),
    _transfer("燃气过户", "gas", "燃气过户 天然气过户 煤气户名"),
    _transfer("有线电视及宽带过户", "network", "宽带过户 有线电视过户 网络过户"),
]
