"""Bundle test data: catalogue items published through the catalogue services, bundles
defined and published through the bundles services."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from apps.bundles import services
from apps.bundles.models import BundleVersion
from apps.catalog.licence_types import licence_type_code
from tests.cases.factories import pdf
from tests.catalog.factories import APPLICATION_SCHEMA, published_item, superuser

_codes = itertools.count(1)

FORM = {
    "applicant_name": "张伟",
    "id_number": "11010519491231002X",
    "mobile": "13800138000",
    "reason": "first",
    "agree": "on",
}


def schema_with(**extra: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(APPLICATION_SCHEMA)
    for key, spec in extra.items():
        schema["properties"][key] = spec
        schema["x-order"].append(key)
        schema["required"].append(key)
    return schema


def birth_items(department: Any) -> dict[str, Any]:
    """出生医学证明 (issues a licence) → 出生登记 (needs its number) ; 医保参保 ; 社保卡."""
    cert, _v = published_item(
        department,
        name="出生医学证明办理",
        result_licence_type=licence_type_code("出生医学证明"),
        result_name="出生医学证明",
    )
    hukou, _v = published_item(
        department,
        name="出生登记",
        form_schema=schema_with(
            birth_certificate_no={"type": "string", "title": "出生医学证明编号", "maxLength": 64}
        ),
    )
    insurance, _v = published_item(department, name="城乡居民医保参保登记")
    ssc, _v = published_item(department, name="社会保障卡申领")
    return {"cert": cert, "hukou": hukou, "insurance": insurance, "ssc": ssc}


def birth_definition(department: Any, items: dict[str, Any] | None = None, **overrides: Any):
    items = items or birth_items(department)
    spec: dict[str, Any] = {
        "actor": superuser(),
        "code": f"birth-{next(_codes)}",
        "name": "新生儿出生一件事",
        "lead_department": department,
        "promised_limit_days": 10,
        "components": [
            {"key": "cert", "item": items["cert"]},
            {"key": "hukou", "item": items["hukou"]},
            {"key": "insurance", "item": items["insurance"]},
            {"key": "ssc", "item": items["ssc"], "condition": "needs_ssc"},
        ],
        "edges": [("cert", "hukou"), ("hukou", "insurance"), ("hukou", "ssc")],
        "questions": [{"key": "needs_ssc", "text": "是否需要为新生儿办理社会保障卡？"}],
        "outputs": [
            {
                "source_component": "cert",
                "source_kind": "result_field",
                "source_field": "certificate_no",
                "target_component": "hukou",
                "target_name": "birth_certificate_no",
            }
        ],
    }
    spec.update(overrides)
    return services.define_bundle(**spec)


def published_birth_bundle(department: Any, **overrides: Any) -> BundleVersion:
    draft = birth_definition(department, **overrides)
    return services.publish_bundle_version(actor=superuser(), version_id=draft.pk)


def files_for(version: BundleVersion) -> dict[str, Any]:
    return {m.key: pdf() for m in version.materials.all()}
