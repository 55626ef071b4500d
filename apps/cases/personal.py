"""Personal data in application forms (个人信息保护法; docs/permissions.md).

A field of the item version's form schema marked ``"x-format": "id-number"`` or ``"mobile"``
is personal data: it is kept out of ``Case.form_data`` (plain JSON, searchable) and stored in
``Case.form_personal``, an ``EncryptedTextField`` holding the JSON of those fields (Fernet with
the identity app's ``PII_KEYS``, rotated by ``manage.py rotate_pii_keys`` like every encrypted
column). Screens and the department API show them masked; the full values go only to the
applicant's own draft form, to the department's hand-off payload, and to an API client holding
the separate ``cases:pii`` scope, each release audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from apps.identity.pii import mask_id_number, mask_phone

# x-format → mask
PERSONAL_FORMATS: dict[str, Callable[[str | None], str]] = {
    "id-number": mask_id_number,
    "mobile": mask_phone,
}


def personal_fields(version: Any) -> dict[str, str]:
    """``{field name: x-format}`` of the personal fields in ``version``'s form schema."""
    properties = (getattr(version, "form_schema", None) or {}).get("properties") or {}
    return {
        name: str(spec.get("x-format"))
        for name, spec in properties.items()
        if isinstance(spec, Mapping) and spec.get("x-format") in PERSONAL_FORMATS
    }


def store_form(case: Any, data: Mapping[str, Any]) -> list[str]:
    """Put ``data`` on ``case``: personal fields encrypted, the rest in ``form_data``.

    Returns the names of the model fields changed (for ``save(update_fields=…)``).
    """
    personal = personal_fields(case.item_version)
    plain = {key: value for key, value in data.items() if key not in personal}
    secret = {
        key: value for key, value in data.items() if key in personal and value not in ("", None)
    }
    case.form_data = plain
    case.form_personal = json.dumps(secret, ensure_ascii=False, sort_keys=True) if secret else ""
    return ["form_data", "form_personal"]


def full_form(case: Any) -> dict[str, Any]:
    """The whole form in clear (decrypts): for the applicant's draft, validation and hand-off."""
    secret = json.loads(case.form_personal) if case.form_personal else {}
    return {**(case.form_data or {}), **secret}


def masked_form(case: Any) -> dict[str, Any]:
    """The whole form with personal fields masked (3601**********1234, 138****8000)."""
    form = full_form(case)
    for name, x_format in personal_fields(case.item_version).items():
        if name in form:
            form[name] = PERSONAL_FORMATS[x_format](str(form[name]))
    return form


def form_rows(case: Any) -> list[tuple[str, Any]]:
    """(label, masked value) in the schema's order, for the case screens."""
    schema = getattr(case.item_version, "form_schema", None) or {}
    properties = schema.get("properties") or {}
    order = [key for key in schema.get("x-order", []) if key in properties]
    order += [key for key in properties if key not in order]
    form = masked_form(case)
    rows = []
    for key in order:
        if key not in form:
            continue
        value = form[key]
        if isinstance(value, bool):
            value = "是" if value else "否"
        rows.append((str(properties[key].get("title") or key), value))
    return rows
