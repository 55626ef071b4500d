"""一次告知 and 一表申请: the guide's answers, which components apply, the merged form and
each component's share of it, and the deduplicated materials (DOMAIN.md §5.3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from apps.bundles import conditions
from apps.bundles.constants import (
    OutputTarget,
    QuestionKind,
)
from apps.bundles.models import (
    BundleComponent,
    BundleQuestion,
    BundleVersion,
)
from apps.bundles.services.definitions import applicant_kind
from apps.catalog.forms import build_application_form, validate_application_data
from apps.core.exceptions import DomainError

# --- the guide: answers and what applies -----------------------------------------------------


def _parse_answer(question: BundleQuestion, raw: Any) -> Any:
    if raw in (None, ""):
        return None
    if question.kind == QuestionKind.YES_NO:
        if isinstance(raw, bool):
            return raw
        if str(raw) in ("yes", "true", "1"):
            return True
        if str(raw) in ("no", "false", "0"):
            return False
        raise DomainError(_("请选择“是”或“否”"), code="invalid_answer")
    if question.kind == QuestionKind.CHOICE:
        values = {str(c.get("value")): c.get("value") for c in question.choices or []}
        if str(raw) not in values:
            raise DomainError(_("请选择有效的选项"), code="invalid_answer")
        return values[str(raw)]
    try:
        number = int(str(raw))
    except ValueError as exc:
        raise DomainError(_("请填写整数"), code="invalid_answer") from exc
    if not 0 <= number <= 1000:
        raise DomainError(_("请填写 0 到 1000 之间的数"), code="invalid_answer")
    return number


def read_answers(
    questions: Sequence[BundleQuestion], raw: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str], list[BundleQuestion]]:
    """``(answers, errors, unanswered)`` for the questions asked given the answers so far.

    Questions are asked in order; one whose condition is false is not asked and its answer (if
    sent anyway) is dropped. ``errors`` maps a question key to a Chinese message."""
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    unanswered: list[BundleQuestion] = []
    for q in questions:
        if not conditions.holds(q.condition, answers):
            continue
        try:
            value = _parse_answer(q, raw.get(q.key))
        except DomainError as exc:
            errors[q.key] = exc.message
            unanswered.append(q)
            continue
        if value is None:
            unanswered.append(q)
        else:
            answers[q.key] = value
    return answers, errors, unanswered


def applicable_components(
    components: Sequence[BundleComponent], answers: Mapping[str, Any]
) -> list[BundleComponent]:
    return [c for c in components if conditions.holds(c.condition, answers)]


# --- the merged form -------------------------------------------------------------------------


def merged_schema(version: BundleVersion, component_keys: set[str]) -> dict[str, Any]:
    """The merged form (one JSON Schema) for the applicable components: each bundle field that
    fills a field of one of them, asked once."""
    fields = [
        f
        for f in version.fields.all()
        if any(t.component in component_keys for t in f.targets.all())
    ]
    return {
        "type": "object",
        "x-order": [f.key for f in fields],
        "properties": {f.key: dict(f.spec) for f in fields},
        "required": [f.key for f in fields if f.required],
    }


def merged_form(
    version: BundleVersion, component_keys: set[str], data: Mapping[str, Any] | None = None
) -> Any:
    schema = merged_schema(version, component_keys)
    return build_application_form(SimpleNamespace(form_schema=schema), data)


def _component_form(
    version: BundleVersion, component_key: str, form: Mapping[str, Any]
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in version.fields.all():
        for t in f.targets.all():
            if t.component == component_key and f.key in form:
                data[t.target_field] = form[f.key]
    return data


def _output_targets(version: BundleVersion, component_key: str) -> set[str]:
    return {
        o.target_name
        for o in version.outputs.all()
        if o.target_component == component_key and o.target_kind == OutputTarget.FORM_FIELD
    }


def _check_component_forms(
    version: BundleVersion, components: Sequence[BundleComponent], form: Mapping[str, Any]
) -> None:
    """Each child's own form rules (patterns, ranges) checked now, not when the child starts;
    fields an upstream result fills later are not required yet. Errors name the merged field."""
    kind = applicant_kind(version)
    errors: dict[str, list[str]] = {}
    for c in components:
        schema = dict(c.item_version.form_schema or {})
        later = _output_targets(version, c.key)
        schema["required"] = [k for k in schema.get("required", []) if k not in later]
        try:
            validate_application_data(
                SimpleNamespace(form_schema=schema),
                _component_form(version, c.key, form),
                kind=kind,
            )
        except ValidationError as exc:
            back = {
                t.target_field: f.key
                for f in version.fields.all()
                for t in f.targets.all()
                if t.component == c.key
            }
            for name, messages in exc.message_dict.items():
                errors.setdefault(back.get(name, "__all__"), []).extend(messages)
    if errors:
        raise ValidationError(errors)


def routed_materials(
    version: BundleVersion, components: Sequence[BundleComponent]
) -> list[tuple[Any, bool]]:
    """``(BundleMaterial, required)`` for the applicable components, each material once.
    Required when a slot it fills is required in its component's item version."""
    keys = {c.key for c in components}
    by_key = {c.key: c for c in components}
    rows = []
    for m in version.materials.all():
        targets = [t for t in m.targets.all() if t.component in keys]
        if not targets:
            continue
        required = False
        for t in targets:
            slots = {s.key: s for s in by_key[t.component].item_version.materials.all()}
            slot = slots.get(t.slot_key)
            if slot is not None and slot.requirement == "required":
                required = True
        rows.append((m, required))
    return rows
