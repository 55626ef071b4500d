"""A small table of e-licence types (证照目录) the demo catalogue's materials and results refer to.

A type code is the 18-character USCC of the defining authority (证照定义机构) plus a 3-digit
sequence (GB/T 36904, DOMAIN.md §3.2). ``11100000000013338W`` (住房和城乡建设部) and its type 032
are real (DOMAIN.md §3.2). The other defining authorities' codes here are **synthetic demo
codes** with valid check digits, made by ``_demo_uscc``: do not mistake them for the real
ministries' codes.

The list below is only the **seed** of the licence catalogue (证照目录). The ``licences`` app owns
the catalogue (``apps.licences.models.LicenceType``, seeded from this list by a data migration)
and registers a source in its ``AppConfig.ready()``::

    from apps.catalog.licence_types import register_licence_type_source
    register_licence_type_source(licence_type_table)

after which every lookup here (``get_licence_type``, ``licence_type_code``,
``is_known_licence_type``) reads the catalogue. Catalog never imports licences (ARCHITECTURE.md:
dependencies point one way); without the licences app the seed list answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from stdnum.cn import uscc

_TYPE_CODE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{18}\d{3}$")


def _demo_uscc(n: int) -> str:
    body = f"111000000000{n:04d}9"[:17]
    return body + uscc.calc_check_digit(body)


MOHURD = "11100000000013338W"  # 住房和城乡建设部 (real, DOMAIN.md §3.2)
MPS = _demo_uscc(101)  # 公安部 (demo)
NHC = _demo_uscc(102)  # 国家卫生健康委员会 (demo)
MCA = _demo_uscc(103)  # 民政部 (demo)
SAMR = _demo_uscc(104)  # 国家市场监督管理总局 (demo)
MNR = _demo_uscc(105)  # 自然资源部 (demo)
MOHRSS = _demo_uscc(106)  # 人力资源和社会保障部 (demo)
MOE = _demo_uscc(107)  # 教育部 (demo)
MOT = _demo_uscc(108)  # 交通运输部 (demo)
MEE = _demo_uscc(109)  # 生态环境部 (demo)
NIA = _demo_uscc(110)  # 国家移民管理局 (demo)
CDPF = _demo_uscc(111)  # 中国残疾人联合会 (demo)
NMPA = _demo_uscc(112)  # 国家药品监督管理局 (demo)
NHSA = _demo_uscc(113)  # 国家医疗保障局 (demo)


class HolderKind:
    PERSON = "person"  # 自然人
    ENTERPRISE = "enterprise"  # 法人或其他组织


@dataclass(frozen=True)
class LicenceType:
    code: str
    name: str
    definer: str
    definer_name: str
    holder: str


def _t(definer: str, definer_name: str, seq: int, name: str, holder: str) -> LicenceType:
    return LicenceType(f"{definer}{seq:03d}", name, definer, definer_name, holder)


P, E = HolderKind.PERSON, HolderKind.ENTERPRISE

LICENCE_TYPE_LIST: list[LicenceType] = [
    _t(MPS, "公安部", 1, "居民身份证", P),
    _t(MPS, "公安部", 2, "居民户口簿", P),
    _t(MPS, "公安部", 3, "机动车驾驶证", P),
    _t(MPS, "公安部", 4, "机动车行驶证", P),
    _t(MPS, "公安部", 5, "居住证", P),
    _t(NIA, "国家移民管理局", 1, "普通护照", P),
    _t(NIA, "国家移民管理局", 2, "往来港澳通行证", P),
    _t(NHC, "国家卫生健康委员会", 1, "出生医学证明", P),
    _t(NHC, "国家卫生健康委员会", 2, "医师执业证书", P),
    _t(NHC, "国家卫生健康委员会", 3, "公共场所卫生许可证", E),
    _t(NHC, "国家卫生健康委员会", 4, "居民死亡医学证明（推断）书", P),
    _t(NHC, "国家卫生健康委员会", 5, "护士执业证书", P),
    _t(MCA, "民政部", 1, "结婚证", P),
    _t(MCA, "民政部", 2, "离婚证", P),
    _t(MCA, "民政部", 3, "社会团体法人登记证书", E),
    _t(MCA, "民政部", 4, "火化证明", P),
    _t(SAMR, "国家市场监督管理总局", 1, "营业执照", E),
    _t(SAMR, "国家市场监督管理总局", 2, "食品经营许可证", E),
    _t(SAMR, "国家市场监督管理总局", 3, "食品生产许可证", E),
    _t(SAMR, "国家市场监督管理总局", 4, "特种设备使用登记证", E),
    _t(SAMR, "国家市场监督管理总局", 5, "工业产品生产许可证", E),
    _t(MNR, "自然资源部", 1, "不动产权证书", P),
    _t(MNR, "自然资源部", 2, "不动产登记证明", P),
    _t(MNR, "自然资源部", 3, "建设用地规划许可证", E),
    _t(MOHRSS, "人力资源和社会保障部", 1, "社会保障卡", P),
    _t(MOHRSS, "人力资源和社会保障部", 2, "就业创业证", P),
    _t(MOHRSS, "人力资源和社会保障部", 3, "职业资格证书", P),
    _t(MOHRSS, "人力资源和社会保障部", 4, "人力资源服务许可证", E),
    _t(MOE, "教育部", 1, "教师资格证书", P),
    _t(MOE, "教育部", 2, "毕业证书", P),
    _t(MOE, "教育部", 3, "民办学校办学许可证", E),
    _t(MOT, "交通运输部", 1, "道路运输经营许可证", E),
    _t(MOT, "交通运输部", 2, "道路运输证", E),
    _t(MOT, "交通运输部", 3, "从业资格证", P),
    _t(MEE, "生态环境部", 1, "排污许可证", E),
    _t(CDPF, "中国残疾人联合会", 1, "残疾人证", P),
    _t(NMPA, "国家药品监督管理局", 1, "药品经营许可证", E),
    _t(NHSA, "国家医疗保障局", 1, "医疗保障电子凭证", P),
    _t(MOHURD, "住房和城乡建设部", 32, "建筑施工特种作业人员操作资格证书", P),
    _t(MOHURD, "住房和城乡建设部", 11, "建筑业企业资质证书", E),
    _t(MOHURD, "住房和城乡建设部", 9, "建筑工程施工许可证", E),
]

# The seed, by code and by name (also the answer when no source is registered).
LICENCE_TYPES: dict[str, LicenceType] = {t.code: t for t in LICENCE_TYPE_LIST}
LICENCE_TYPES_BY_NAME: dict[str, LicenceType] = {t.name: t for t in LICENCE_TYPE_LIST}

# A source returns the whole catalogue by code (it may cache; the catalogue is small).
LicenceTypeSource = Callable[[], Mapping[str, LicenceType]]

_source: LicenceTypeSource | None = None


def register_licence_type_source(fn: LicenceTypeSource | None) -> None:
    """Install the catalogue the lookups read (the licences app calls this; ``None`` resets)."""
    global _source
    _source = fn


def licence_type_table() -> Mapping[str, LicenceType]:
    """Every known licence type by code: the registered catalogue, else the seed."""
    return _source() if _source is not None else LICENCE_TYPES


def get_licence_type(code: str) -> LicenceType | None:
    return licence_type_table().get(code)


def is_known_licence_type(code: str) -> bool:
    """A well-formed type code that the licence catalogue lists."""
    return is_licence_type_code(code) and get_licence_type(code) is not None


def is_licence_type_code(code: str) -> bool:
    """Structure of a 证照类型代码: a valid USCC followed by three digits."""
    if not _TYPE_CODE.match(code or ""):
        return False
    return uscc.is_valid(code[:18])


def licence_type_code(name: str) -> str:
    """The code of a type by its Chinese name (KeyError if unknown).

    The seed's names answer without asking the catalogue (codes never change once seeded), so
    demo definitions and test modules can name types at import time, before any database.
    """
    if name in LICENCE_TYPES_BY_NAME:
        return LICENCE_TYPES_BY_NAME[name].code
    for licence_type in licence_type_table().values():
        if licence_type.name == name:
            return licence_type.code
    raise KeyError(name)
