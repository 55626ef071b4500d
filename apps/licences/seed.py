"""The first contents of the 证照目录, built from ``apps.catalog.licence_types`` (the seed list).

Used by the data migration ``0002_seed_catalogue`` and by ``sync_licence_catalogue``; plain data,
no model imports, so the migration stays replayable.
"""

from __future__ import annotations

from typing import Any

from apps.catalog.licence_types import LICENCE_TYPE_LIST, HolderKind

PERSON_FACE = [{"key": "XM", "label": "姓名", "required": True, "mask": "name"}]
ENTERPRISE_FACE = [
    {"key": "MC", "label": "名称", "required": True},
    {"key": "FDDBR", "label": "法定代表人（负责人）", "mask": "name"},
    {"key": "ZS", "label": "住所", "mask": "address"},
]

# Type-specific elements (pinyin initials, DOMAIN.md §3.4) and validity rules for the types the
# demo uses; the rest get the generic person / enterprise template and a fixed 5-year term.
SPECIFIC: dict[str, dict[str, Any]] = {
    "居民身份证": {
        "face": [
            {"key": "XB", "label": "性别", "enum": ["男", "女"]},
            {"key": "MZ", "label": "民族"},
            {"key": "CSRQ", "label": "出生日期", "type": "date", "mask": "all"},
            {"key": "ZZ", "label": "住址", "mask": "address"},
        ],
        "validity_years": 20,
        "level": 3,
    },
    "居民户口簿": {
        "face": [
            {"key": "HH", "label": "户号", "mask": "all"},
            {"key": "HZXM", "label": "户主姓名", "mask": "name"},
            {"key": "YHZGX", "label": "与户主关系"},
            {"key": "ZZ", "label": "住址", "mask": "address"},
        ],
        "long_term": True,
        "level": 3,
    },
    "机动车驾驶证": {
        "face": [
            {"key": "ZJCX", "label": "准驾车型"},
            {"key": "CCLZRQ", "label": "初次领证日期", "type": "date"},
        ],
        "validity_years": 6,
        "level": 2,
    },
    "营业执照": {
        "face": [
            {"key": "LX", "label": "类型"},
            {"key": "ZCZB", "label": "注册资本"},
            {"key": "CLRQ", "label": "成立日期", "type": "date"},
            {"key": "JYFW", "label": "经营范围"},
        ],
        "long_term": True,
        "level": 3,
    },
    "食品经营许可证": {
        "face": [
            {"key": "JYCS", "label": "经营场所", "mask": "address"},
            {"key": "ZTYT", "label": "主体业态"},
            {"key": "JYXM", "label": "经营项目"},
        ],
        "validity_years": 5,
        "level": 3,
    },
    "结婚证": {"long_term": True},
    "出生医学证明": {"long_term": True},
    "不动产权证书": {"long_term": True, "multiple": True},
    "不动产登记证明": {"long_term": True, "multiple": True},
    "毕业证书": {"long_term": True, "multiple": True},
    "职业资格证书": {"long_term": True, "multiple": True},
    "机动车行驶证": {"validity_years": 6, "multiple": True},
    "道路运输证": {"validity_years": 5, "multiple": True},
    "建筑工程施工许可证": {"long_term": True, "multiple": True},
}


def seed_rows() -> list[dict[str, Any]]:
    rows = []
    for seed in LICENCE_TYPE_LIST:
        extra = SPECIFIC.get(seed.name, {})
        person = seed.holder == HolderKind.PERSON
        long_term = bool(extra.get("long_term"))
        rows.append(
            {
                "code": seed.code,
                "name": seed.name,
                "definer_code": seed.definer,
                "definer_name": seed.definer_name,
                "holder_kind": "person" if person else "enterprise",
                "holder_code_type": "111" if person else "001",
                "validity_rule": "long_term" if long_term else "fixed",
                "validity_years": None if long_term else extra.get("validity_years", 5),
                "issuing_level": extra.get("level", 3),
                "face_fields": (PERSON_FACE if person else ENTERPRISE_FACE) + extra.get("face", []),
                "allows_multiple": bool(extra.get("multiple")),
            }
        )
    return rows


def ensure_seed_catalogue() -> int:
    """Create the seed types missing from the catalogue (loaddemo, tests after a flush).

    Idempotent: existing rows are left as they are (an administrator may have edited them).
    Returns how many rows were created.
    """
    from apps.licences.catalogue import invalidate_catalogue
    from apps.licences.models import LicenceType

    rows = seed_rows()
    existing = set(
        LicenceType.objects.filter(code__in=[r["code"] for r in rows]).values_list(
            "code", flat=True
        )
    )
    missing = [LicenceType(**row) for row in rows if row["code"] not in existing]
    LicenceType.objects.bulk_create(missing)
    invalidate_catalogue()
    return len(missing)
