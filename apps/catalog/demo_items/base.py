"""Shared parts of the demo catalogue: item and material templates, the demo departments,
legal bases and common materials."""

from __future__ import annotations

from dataclasses import dataclass, field

# Department kinds → USCCs per level in apps/core/data/demo_org.json.
DEPARTMENTS: dict[str, dict[str, list[str]]] = {
    "psb": {
        "province": ["11360000D00000013N"],
        "city": ["11360100D00000144P"],
        "county": ["11360121D00000240E", "11360113D00000304R"],
    },
    "samr": {
        "province": ["11360000D00000021H"],
        "city": ["11360100D00000152J"],
        "county": ["11360121D00000259B", "11360113D00000312L"],
    },
    "hrss": {
        "province": ["11360000D0000003X9"],
        "city": ["11360100D00000160D"],
        "county": ["11360121D000002676", "11360113D00000320F"],
    },
    "nhc": {"province": ["11360000D000000489"], "city": ["11360100D00000179A"]},
    "nr": {"province": ["11360000D000000564"], "city": ["11360100D000001875"]},
    "hsa": {
        "province": ["11360000D00000064Y"],
        "city": ["11360100D000001950"],
        "county": ["11360121D000002751"],
    },
    "mca": {
        "province": ["11360000D00000072R"],
        "city": ["11360100D00000208M"],
        "county": ["11360121D00000283U", "11360113D00000339C"],
    },
    "hud": {"province": ["11360000D00000080L"], "city": ["11360100D00000216G"]},
    "hpf": {"city": ["12360100D000002248"]},
    "approval": {
        "city": ["11360100D000002326"],
        "county": ["11360121D00000291N", "11360113D000003477"],
    },
    "mot": {"province": ["11360000D00000099H"]},
    "edu": {"province": ["11360000D000001015"]},
    "env": {"province": ["11360000D0000011XW"]},
    "tax": {"province": ["11360000D00000128W"]},
    "zwfw": {"province": ["11360000D00000136P"]},
    # Utility companies (demo_org.json): 二手房水电气网联动过户, reached through the outbox.
    "water": {"city": ["91360100D00000355Y"]},
    "power": {"city": ["91360100D00000363R"]},
    "gas": {"city": ["91360100D00000371L"]},
    "network": {"city": ["91360100D00000398C"]},
}

LEGAL_BASES = {
    "psb": "《中华人民共和国居民身份证法》《中华人民共和国户口登记条例》",
    "samr": "《中华人民共和国市场主体登记管理条例》《中华人民共和国食品安全法》",
    "hrss": "《中华人民共和国社会保险法》《中华人民共和国就业促进法》",
    "nhc": "《中华人民共和国母婴保健法》《中华人民共和国医师法》",
    "nr": "《不动产登记暂行条例》《中华人民共和国土地管理法》",
    "hsa": "《中华人民共和国社会保险法》《医疗保障基金使用监督管理条例》",
    "mca": "《婚姻登记条例》《中华人民共和国老年人权益保障法》",
    "hud": "《中华人民共和国建筑法》《城市房地产开发经营管理条例》",
    "hpf": "《住房公积金管理条例》",
    "approval": "《中华人民共和国行政许可法》及相对集中行政许可权改革有关规定",
    "mot": "《中华人民共和国道路运输条例》",
    "edu": "《中华人民共和国教育法》《教师资格条例》",
    "env": "《排污许可管理条例》",
    "tax": "《中华人民共和国税收征收管理法》",
    "zwfw": "《优化营商环境条例》",
    "water": "《城市供水条例》",
    "power": "《电力供应与使用条例》",
    "gas": "《城镇燃气管理条例》",
    "network": "《中华人民共和国电信条例》",
}


@dataclass
class M:
    key: str
    name: str
    licence: str = ""  # name of a licence type in apps.catalog.licence_types
    shared: list[str] = field(default_factory=list)
    requirement: str = "required"
    condition: str = ""
    form: str = "original"
    copies: int = 1
    source: str = "applicant"
    is_key: bool = False


ID_CARD = M("id-card", "申请人居民身份证", licence="居民身份证", source="government", is_key=True)
HUKOU = M(
    "household-register",
    "居民户口簿",
    licence="居民户口簿",
    shared=["人口库-户籍信息"],
    source="government",
)
PHOTO = M("photo", "近期免冠彩色证件照片", form="electronic", copies=1)
BIZ = M("business-licence", "营业执照", licence="营业执照", source="government", is_key=True)
AGENT = M(
    "authorisation",
    "授权委托书及受托人居民身份证",
    requirement="conditional",
    condition="委托他人代为办理的",
)
MARRIAGE = M("marriage-certificate", "结婚证", licence="结婚证", source="government")
BIRTH = M("birth-certificate", "出生医学证明", licence="出生医学证明", source="government")
PROPERTY = M(
    "property-certificate",
    "不动产权证书",
    licence="不动产权证书",
    shared=["不动产登记信息"],
    source="government",
)
SSC = M("social-security-card", "社会保障卡", licence="社会保障卡", source="government")
DEATH = M(
    "death-certificate",
    "居民死亡医学证明（推断）书",
    licence="居民死亡医学证明（推断）书",
    source="government",
    is_key=True,
)
LEASE = M("premises", "经营场所使用证明（房屋租赁合同或产权证明）", form="copy")
DRIVING = M("driving-licence", "机动车驾驶证", licence="机动车驾驶证", source="government")


def app_form(title: str) -> M:
    return M("application-form", f"《{title}》", form="original")


@dataclass
class T:
    name: str
    kind: str
    levels: list[str]
    item_type: str
    themes: list[str]
    materials: list[M]
    keywords: str = ""
    audience: str = "person"
    legal: int = 20
    promised: int = 5
    case_kind: str = "promised"
    visits: int = 0
    visits_reason: str = ""
    fee: tuple[str, str, str] | None = None  # (name, standard, basis)
    result: str = ""
    result_type: str = "other"
    result_licence: str = ""
    conditions: str = ""
    variants: list[str] = field(default_factory=list)
    min_level: int = 2
    tolerance: bool = False
    channel: str = "both"
    name_en: str = ""  # the English interface shows and searches it


IDENTITY_VISIT = "需现场采集人像和指纹信息"
