"""Writing bundle definitions: drafts, publish (with its checks), new versions, retirement.

Publishing freezes a draft version: its rows refuse changes afterwards (``VersionPart``) and
each component pins the catalogue item's current ``ItemVersion``. ``publish_problems`` lists,
in Chinese, everything that stops a draft from being published; ``publish_bundle_version``
refuses with all of them at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.bundles import conditions, graph
from apps.bundles.constants import (
    Audience,
    OutputSource,
    OutputTarget,
    QuestionKind,
    VersionStatus,
)
from apps.bundles.models import (
    Bundle,
    BundleComponent,
    BundleEdge,
    BundleField,
    BundleFieldTarget,
    BundleMaterial,
    BundleMaterialTarget,
    BundleOutput,
    BundleQuestion,
    BundleVersion,
)
from apps.catalog.forms import check_form_schema, schema_for_kind
from apps.core.exceptions import DomainError


class PublishRefused(DomainError):
    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(
            _("不能发布：%(problems)s") % {"problems": "；".join(problems)}, code="publish_refused"
        )
        self.problems = list(problems)


# --- what publishing checks -----------------------------------------------------------------


@dataclass
class _Loaded:
    """A version's content read once (publish checks, copying)."""

    version: BundleVersion
    components: list[BundleComponent]
    edges: list[BundleEdge]
    questions: list[BundleQuestion]
    fields: list[BundleField]
    field_targets: list[BundleFieldTarget]
    materials: list[BundleMaterial]
    material_targets: list[BundleMaterialTarget]
    outputs: list[BundleOutput]
    item_versions: dict[str, Any] = field(default_factory=dict)  # component key → ItemVersion


def _load(version: BundleVersion) -> _Loaded:
    loaded = _Loaded(
        version=version,
        components=list(version.components.select_related("item__current_version")),
        edges=list(version.edges.all()),
        questions=list(version.questions.all()),
        fields=list(version.fields.all()),
        field_targets=list(
            BundleFieldTarget.objects.filter(field__version=version).select_related("field")
        ),
        materials=list(version.materials.all()),
        material_targets=list(
            BundleMaterialTarget.objects.filter(material__version=version).select_related(
                "material"
            )
        ),
        outputs=list(version.outputs.all()),
    )
    for c in loaded.components:
        pinned = c.item_version if c.item_version_id else c.item.current_version
        if pinned is not None:
            loaded.item_versions[c.key] = pinned
    return loaded


def applicant_kind(version: BundleVersion) -> str:
    """The applicant kind (apps.catalog.forms) the children's forms are filled in as."""
    return "person" if version.audience == Audience.PERSON else "enterprise"


def _schema(item_version: Any, kind: str) -> dict[str, Any]:
    return schema_for_kind(item_version.form_schema or {}, kind)


def _shape(spec: Mapping[str, Any]) -> tuple:
    """What must agree between a merged field and a component field it fills."""
    return (
        spec.get("type"),
        spec.get("format"),
        spec.get("x-format"),
        tuple(sorted(map(str, (spec.get("items") or {}).get("enum") or []))),
    )


def _check_conditions(loaded: _Loaded, problems: list[str]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    seen_questions: list[str] = []
    all_questions = {q.key for q in loaded.questions}
    for q in loaded.questions:
        if q.kind == QuestionKind.CHOICE:
            values = [c.get("value") for c in q.choices or [] if isinstance(c, Mapping)]
            if not values or len(set(map(str, values))) != len(values):
                problems.append(_("问题“%(q)s”需要列出互不相同的选项") % {"q": q.text})
        try:
            node = conditions.parse(q.condition)
        except conditions.ConditionError as exc:
            problems.append(_("问题“%(q)s”的提问条件有误：%(e)s") % {"q": q.text, "e": exc})
            node = None
        for name in sorted(conditions.names(node)):
            if name not in seen_questions:
                problems.append(
                    _("问题“%(q)s”的提问条件引用了未知或排在其后的问题“%(name)s”")
                    % {"q": q.text, "name": name}
                )
        parsed[f"question:{q.key}"] = node
        seen_questions.append(q.key)
    for c in loaded.components:
        try:
            node = conditions.parse(c.condition)
        except conditions.ConditionError as exc:
            problems.append(_("子事项“%(c)s”的适用条件有误：%(e)s") % {"c": c.key, "e": exc})
            node = None
        for name in sorted(conditions.names(node) - all_questions):
            problems.append(
                _("子事项“%(c)s”的适用条件引用了未知问题“%(name)s”") % {"c": c.key, "name": name}
            )
        parsed[c.key] = node
    return parsed


def _check_graph(loaded: _Loaded, problems: list[str]) -> bool:
    keys = [c.key for c in loaded.components]
    ok = True
    for e in loaded.edges:
        for end in (e.upstream, e.downstream):
            if end not in keys:
                problems.append(
                    _("前后置关系“%(edge)s”引用了不存在的子事项“%(key)s”")
                    % {"edge": str(e), "key": end}
                )
                ok = False
        if e.upstream == e.downstream:
            problems.append(_("子事项“%(key)s”不能以自身为前置事项") % {"key": e.upstream})
            ok = False
    if not ok:
        return False
    cycle = graph.find_cycle(keys, [(e.upstream, e.downstream) for e in loaded.edges])
    if cycle:
        problems.append(_("前后置关系存在循环：%(cycle)s") % {"cycle": " → ".join(cycle)})
        return False
    return True


def _check_reachability(loaded: _Loaded, parsed: dict[str, Any], problems: list[str]) -> None:
    """Components no answer makes applicable; outputs whose source may not apply."""
    nodes = list(parsed.values())
    space = graph.answer_space(loaded.questions, nodes)
    if space is None:
        problems.append(_("引导问题的答案组合过多，请拆分问题"))
        return
    applies_ever: set[str] = set()
    broken_outputs: set[int] = set()
    for answers in space:
        applying = {c.key for c in loaded.components if conditions.evaluate(parsed[c.key], answers)}
        applies_ever |= applying
        for o in loaded.outputs:
            if o.target_component in applying and o.source_component not in applying:
                broken_outputs.add(o.pk)
    for c in loaded.components:
        if c.key not in applies_ever:
            problems.append(
                _("子事项“%(c)s”在任何回答下都不会办理（不可达），请检查适用条件") % {"c": c.key}
            )
    for o in loaded.outputs:
        if o.pk in broken_outputs:
            problems.append(
                _("结果传递“%(o)s”：存在“%(t)s”办理而“%(s)s”不办理的情形")
                % {"o": str(o), "t": o.target_component, "s": o.source_component}
            )


def _check_fields(loaded: _Loaded, kind: str, problems: list[str]) -> dict[str, set[str]]:
    """The merged form; returns the component fields it fills, per component."""
    filled: dict[str, set[str]] = {}
    fed_by: dict[tuple[str, str], str] = {}
    for f in loaded.fields:
        spec = dict(f.spec or {})
        for problem in check_form_schema({"type": "object", "properties": {f.key: spec}}):
            problems.append(_("合并申请表字段“%(f)s”：%(p)s") % {"f": f.key, "p": problem})
    for t in loaded.field_targets:
        f = t.field
        item_version = loaded.item_versions.get(t.component)
        if item_version is None:
            if t.component not in {c.key for c in loaded.components}:
                problems.append(
                    _("合并申请表字段“%(f)s”映射到不存在的子事项“%(c)s”")
                    % {"f": f.key, "c": t.component}
                )
            continue
        target_spec = (_schema(item_version, kind).get("properties") or {}).get(t.target_field)
        if target_spec is None:
            problems.append(
                _("合并申请表字段“%(f)s”映射到子事项“%(c)s”申请表中不存在的字段“%(t)s”")
                % {"f": f.key, "c": t.component, "t": t.target_field}
            )
            continue
        if _shape(f.spec or {}) != _shape(target_spec):
            problems.append(
                _("合并申请表字段“%(f)s”与子事项“%(c)s”的字段“%(t)s”类型不一致")
                % {"f": f.key, "c": t.component, "t": t.target_field}
            )
        own_enum = set(map(str, (f.spec or {}).get("enum") or []))
        target_enum = set(map(str, target_spec.get("enum") or []))
        if target_enum and not own_enum <= target_enum | set():
            problems.append(
                _("合并申请表字段“%(f)s”的选项超出子事项“%(c)s”字段“%(t)s”允许的范围")
                % {"f": f.key, "c": t.component, "t": t.target_field}
            )
        if target_enum and not own_enum:
            problems.append(
                _("合并申请表字段“%(f)s”应与子事项“%(c)s”字段“%(t)s”一样列出选项")
                % {"f": f.key, "c": t.component, "t": t.target_field}
            )
        other = fed_by.setdefault((t.component, t.target_field), f.key)
        if other != f.key:
            problems.append(
                _("子事项“%(c)s”的字段“%(t)s”同时由“%(a)s”和“%(b)s”填写，请合并为一个字段")
                % {"c": t.component, "t": t.target_field, "a": other, "b": f.key}
            )
        filled.setdefault(t.component, set()).add(t.target_field)
    return filled


def _check_materials(loaded: _Loaded, problems: list[str]) -> dict[str, set[str]]:
    routed: dict[str, set[str]] = {}
    keys = {c.key for c in loaded.components}
    for t in loaded.material_targets:
        item_version = loaded.item_versions.get(t.component)
        if item_version is None:
            if t.component not in keys:
                problems.append(
                    _("共享材料“%(m)s”分发到不存在的子事项“%(c)s”")
                    % {"m": t.material.name, "c": t.component}
                )
            continue
        slots = {m.key for m in item_version.materials.all()}
        if t.slot_key not in slots:
            problems.append(
                _("共享材料“%(m)s”分发到子事项“%(c)s”中不存在的材料“%(s)s”")
                % {"m": t.material.name, "c": t.component, "s": t.slot_key}
            )
            continue
        routed.setdefault(t.component, set()).add(t.slot_key)
    return routed


def _check_outputs(
    loaded: _Loaded,
    kind: str,
    filled: dict[str, set[str]],
    routed: dict[str, set[str]],
    graph_ok: bool,
    problems: list[str],
) -> None:
    keys = {c.key for c in loaded.components}
    edges = [(e.upstream, e.downstream) for e in loaded.edges]
    for o in loaded.outputs:
        if o.source_component not in keys or o.target_component not in keys:
            problems.append(_("结果传递“%(o)s”引用了不存在的子事项") % {"o": str(o)})
            continue
        if graph_ok and o.source_component not in graph.upstream_closure(o.target_component, edges):
            problems.append(
                _("结果传递“%(o)s”：“%(s)s”必须是“%(t)s”的前置事项")
                % {"o": str(o), "s": o.source_component, "t": o.target_component}
            )
        source_version = loaded.item_versions.get(o.source_component)
        target_version = loaded.item_versions.get(o.target_component)
        if source_version is None or target_version is None:
            continue
        if o.source_kind == OutputSource.LICENCE and not source_version.result_licence_type:
            problems.append(
                _("结果传递“%(o)s”：子事项“%(s)s”不出具电子证照")
                % {"o": str(o), "s": o.source_component}
            )
        if o.source_kind == OutputSource.RESULT_FIELD and not o.source_field:
            problems.append(_("结果传递“%(o)s”：请填写办理结果字段") % {"o": str(o)})
        if o.target_kind == OutputTarget.FORM_FIELD:
            properties = _schema(target_version, kind).get("properties") or {}
            if o.target_name not in properties:
                problems.append(
                    _("结果传递“%(o)s”：子事项“%(t)s”的申请表中没有字段“%(f)s”")
                    % {"o": str(o), "t": o.target_component, "f": o.target_name}
                )
            elif properties[o.target_name].get("type") != "string":
                problems.append(
                    _("结果传递“%(o)s”：目标字段“%(f)s”应为文本类型")
                    % {"o": str(o), "f": o.target_name}
                )
            elif o.target_name in filled.get(o.target_component, set()):
                problems.append(
                    _("子事项“%(t)s”的字段“%(f)s”既由合并申请表又由结果传递填写")
                    % {"t": o.target_component, "f": o.target_name}
                )
            filled.setdefault(o.target_component, set()).add(o.target_name)
        else:
            slot = target_version.materials.filter(key=o.target_name).first()
            if slot is None:
                problems.append(
                    _("结果传递“%(o)s”：子事项“%(t)s”没有材料“%(m)s”")
                    % {"o": str(o), "t": o.target_component, "m": o.target_name}
                )
                continue
            if o.source_kind != OutputSource.LICENCE or (
                source_version.result_licence_type not in (slot.licence_types or [])
            ):
                problems.append(
                    _("结果传递“%(o)s”：材料“%(m)s”不接受该电子证照")
                    % {"o": str(o), "m": slot.name}
                )
            routed.setdefault(o.target_component, set()).add(o.target_name)


def _check_coverage(
    loaded: _Loaded,
    kind: str,
    filled: dict[str, set[str]],
    routed: dict[str, set[str]],
    problems: list[str],
) -> None:
    """Every required field and material of every component has a source."""
    for c in loaded.components:
        item_version = loaded.item_versions.get(c.key)
        if item_version is None:
            continue
        schema = _schema(item_version, kind)
        for name in schema.get("required", []):
            if name not in filled.get(c.key, set()):
                title = (schema["properties"].get(name) or {}).get("title") or name
                problems.append(
                    _("子事项“%(c)s”的必填字段“%(f)s”在合并申请表中没有对应字段")
                    % {"c": c.key, "f": title}
                )
        for slot in item_version.materials.all():
            if slot.requirement == "required" and slot.key not in routed.get(c.key, set()):
                problems.append(
                    _("子事项“%(c)s”的必要材料“%(m)s”没有对应的共享材料")
                    % {"c": c.key, "m": slot.name}
                )


def publish_problems(version: BundleVersion) -> list[str]:
    """Everything (in Chinese) that stops ``version`` from being published."""
    loaded = _load(version)
    problems: list[str] = []
    if not loaded.components:
        problems.append(_("一件事至少需要一个子事项"))
    if not version.promised_limit_days:
        problems.append(_("请填写一件事的承诺办结时限"))
    for c in loaded.components:
        if c.key not in loaded.item_versions:
            problems.append(_("子事项“%(c)s”对应的事项尚未发布") % {"c": c.key})
    kind = applicant_kind(version)
    parsed = _check_conditions(loaded, problems)
    graph_ok = _check_graph(loaded, problems)
    filled = _check_fields(loaded, kind, problems)
    routed = _check_materials(loaded, problems)
    _check_outputs(loaded, kind, filled, routed, graph_ok, problems)
    _check_coverage(loaded, kind, filled, routed, problems)
    if not any(p for p in problems if "条件" in p):
        _check_reachability(loaded, parsed, problems)
    return problems


# --- the writes -----------------------------------------------------------------------------


def create_bundle(
    *,
    actor: Any,
    code: str,
    name: str,
    lead_department: Any,
    promised_limit_days: int,
    audience: str = Audience.PERSON,
    summary: str = "",
    theme: Any = None,
    batch: str = "",
) -> BundleVersion:
    """A new bundle with its first (draft) version."""
    with transaction.atomic():
        if Bundle.objects.filter(code=code).exists():
            raise DomainError(_("一件事编码已存在"), code="duplicate_code")
        bundle = Bundle.objects.create(code=code)
        version = BundleVersion.objects.create(
            bundle=bundle,
            version=1,
            name=name,
            summary=summary,
            audience=audience,
            theme=theme,
            lead_department=lead_department,
            promised_limit_days=promised_limit_days,
            batch=batch,
        )
        record_audit_event(actor=actor, action="bundles.created", obj=version)
    return version


def publish_bundle_version(*, actor: Any, version_id: int) -> BundleVersion:
    """Publish a draft: checks, pins each component's item version, retires the previous one.

    Refused (``PublishRefused``, every problem named) when the checks fail; nothing changes.
    A plain ``atomic`` (the admin action calls it inside its own transaction).
    """
    with transaction.atomic():
        version = BundleVersion.objects.select_for_update().get(pk=version_id)
        bundle = Bundle.objects.select_for_update().get(pk=version.bundle_id)
        if version.status != VersionStatus.DRAFT:
            raise DomainError(_("只有草稿版本可以发布"), code="not_draft")
        problems = publish_problems(version)
        if problems:
            raise PublishRefused(problems)
        for component in version.components.select_related("item"):
            BundleComponent.objects.filter(pk=component.pk).update(
                item_version=component.item.current_version_id
            )
        now = timezone.now()
        previous = bundle.current_version_id
        if previous:
            BundleVersion.objects.filter(pk=previous).update(
                status=VersionStatus.RETIRED, retired_at=now
            )
        version.status = VersionStatus.PUBLISHED
        version.published_at = now
        version.published_by = actor if getattr(actor, "pk", None) else None
        version.save(update_fields=["status", "published_at", "published_by", "updated_at"])
        bundle.current_version = version
        bundle.save(update_fields=["current_version", "updated_at"])
        record_audit_event(
            actor=actor,
            action="bundles.published",
            obj=version,
            data={"bundle": bundle.code, "version": version.version, "retired": previous},
        )
    return version


def retire_bundle(*, actor: Any, bundle_id: int, reason: str = "") -> Bundle:
    """Take a bundle off the portal: its published version becomes 已停用. Applications already
    made continue under their version."""
    with transaction.atomic():
        bundle = Bundle.objects.select_for_update().get(pk=bundle_id)
        if bundle.current_version_id is None:
            raise DomainError(_("该一件事没有已发布的版本"), code="not_published")
        BundleVersion.objects.filter(pk=bundle.current_version_id).update(
            status=VersionStatus.RETIRED, retired_at=timezone.now(), change_note=reason[:300]
        )
        retired = bundle.current_version_id
        bundle.current_version = None
        bundle.save(update_fields=["current_version", "updated_at"])
        record_audit_event(
            actor=actor, action="bundles.retired", obj=bundle, data={"version": retired}
        )
    return bundle


def new_draft_version(*, actor: Any, bundle_id: int) -> BundleVersion:
    """A draft copied from the latest version, to edit and publish as the next version."""
    with transaction.atomic():
        bundle = Bundle.objects.select_for_update().get(pk=bundle_id)
        if bundle.versions.filter(status=VersionStatus.DRAFT).exists():
            raise DomainError(_("该一件事已有草稿版本"), code="draft_exists")
        source = bundle.versions.order_by("-version").first()
        assert source is not None
        number = (bundle.versions.aggregate(n=Max("version"))["n"] or 0) + 1
        draft = copy_version(source, number=number)
        record_audit_event(
            actor=actor, action="bundles.draft_created", obj=draft, data={"from": source.pk}
        )
    return draft


def copy_version(source: BundleVersion, *, number: int) -> BundleVersion:
    """A draft holding the same content as ``source`` (components unpinned)."""
    partners = list(source.partner_departments.all())
    draft = BundleVersion.objects.get(pk=source.pk)
    draft.pk = None
    draft.id = None
    draft.version = number
    draft.status = VersionStatus.DRAFT
    draft.published_at = None
    draft.published_by = None
    draft.retired_at = None
    draft.change_note = ""
    draft.save()
    draft.partner_departments.set(partners)
    for c in source.components.all():
        BundleComponent.objects.create(
            version=draft, key=c.key, item_id=c.item_id, condition=c.condition, order=c.order
        )
    for e in source.edges.all():
        BundleEdge.objects.create(version=draft, upstream=e.upstream, downstream=e.downstream)
    for q in source.questions.all():
        BundleQuestion.objects.create(
            version=draft,
            key=q.key,
            text=q.text,
            help_text=q.help_text,
            kind=q.kind,
            choices=q.choices,
            condition=q.condition,
            order=q.order,
        )
    for f in source.fields.prefetch_related("targets"):
        new = BundleField.objects.create(
            version=draft,
            key=f.key,
            spec=f.spec,
            required=f.required,
            prefill=f.prefill,
            order=f.order,
        )
        for t in f.targets.all():
            BundleFieldTarget.objects.create(
                field=new, component=t.component, target_field=t.target_field
            )
    for m in source.materials.prefetch_related("targets"):
        new_m = BundleMaterial.objects.create(
            version=draft, key=m.key, name=m.name, notes=m.notes, order=m.order
        )
        for t in m.targets.all():
            BundleMaterialTarget.objects.create(
                material=new_m, component=t.component, slot_key=t.slot_key
            )
    for o in source.outputs.all():
        BundleOutput.objects.create(
            version=draft,
            source_component=o.source_component,
            source_kind=o.source_kind,
            source_field=o.source_field,
            target_component=o.target_component,
            target_kind=o.target_kind,
            target_name=o.target_name,
        )
    return draft


def define_bundle(
    *,
    actor: Any,
    code: str,
    name: str,
    lead_department: Any,
    promised_limit_days: int,
    components: Sequence[Mapping[str, Any]],
    edges: Sequence[tuple[str, str]] = (),
    questions: Sequence[Mapping[str, Any]] = (),
    fields: Sequence[Mapping[str, Any]] = (),
    materials: Sequence[Mapping[str, Any]] = (),
    outputs: Sequence[Mapping[str, Any]] = (),
    partner_departments: Sequence[Any] = (),
    merge_fields: bool = True,
    merge_materials: bool = True,
    **version_fields: Any,
) -> BundleVersion:
    """A new bundle's draft from plain data (demo loader, tests, imports).

    ``components``: ``{"key", "item" (ServiceItem), "condition"}``; ``fields``:
    ``{"key", "spec", "required", "targets": [(component, field)]}``; ``materials``:
    ``{"key", "name", "targets": [(component, slot)]}``; ``outputs``: ``BundleOutput`` columns.
    With ``merge_fields`` every field of every component's form not already filled (by a listed
    field or an output) becomes a merged field of the same key — a field several components
    have is asked once; a type conflict surfaces at publish. ``merge_materials`` does the same
    for material slots. A plain ``atomic``.
    """
    with transaction.atomic():
        version = create_bundle(
            actor=actor,
            code=code,
            name=name,
            lead_department=lead_department,
            promised_limit_days=promised_limit_days,
            **version_fields,
        )
        version.partner_departments.set(partner_departments)
        for order, c in enumerate(components):
            BundleComponent.objects.create(
                version=version,
                key=c["key"],
                item=c["item"],
                condition=c.get("condition", ""),
                order=order,
            )
        for upstream, downstream in edges:
            BundleEdge.objects.create(version=version, upstream=upstream, downstream=downstream)
        for order, q in enumerate(questions):
            BundleQuestion.objects.create(
                version=version,
                key=q["key"],
                text=q["text"],
                help_text=q.get("help_text", ""),
                kind=q.get("kind", QuestionKind.YES_NO),
                choices=q.get("choices", []),
                condition=q.get("condition", ""),
                order=order,
            )
        for o in outputs:
            BundleOutput.objects.create(version=version, **o)
        output_fields = {
            (o["target_component"], o["target_name"])
            for o in outputs
            if o.get("target_kind", OutputTarget.FORM_FIELD) == OutputTarget.FORM_FIELD
        }
        output_slots = {
            (o["target_component"], o["target_name"])
            for o in outputs
            if o.get("target_kind") == OutputTarget.MATERIAL
        }
        by_key: dict[str, BundleField] = {}
        for order, f in enumerate(fields):
            by_key[f["key"]] = BundleField.objects.create(
                version=version,
                key=f["key"],
                spec=f["spec"],
                required=f.get("required", True),
                prefill=f.get("prefill", ""),
                order=order,
            )
            for component, target in f.get("targets", []):
                BundleFieldTarget.objects.create(
                    field=by_key[f["key"]], component=component, target_field=target
                )
        explicit_targets = {
            (t.component, t.target_field)
            for t in BundleFieldTarget.objects.filter(field__version=version)
        }
        kind = applicant_kind(version)
        if merge_fields:
            for c in components:
                current = c["item"].current_version
                if current is None:
                    continue
                schema = _schema(current, kind)
                properties = schema.get("properties") or {}
                order_keys = [k for k in schema.get("x-order", []) if k in properties]
                order_keys += sorted(k for k in properties if k not in order_keys)
                for prop in order_keys:
                    if (c["key"], prop) in output_fields | explicit_targets:
                        continue
                    field_row = by_key.get(prop)
                    if field_row is None:
                        spec = {
                            k: v for k, v in properties[prop].items() if k != "x-applicant-kinds"
                        }
                        field_row = by_key[prop] = BundleField.objects.create(
                            version=version,
                            key=prop,
                            spec=spec,
                            required=prop in schema.get("required", []),
                            prefill=_PREFILL.get(prop, ""),
                            order=len(by_key),
                        )
                    elif prop in schema.get("required", []) and not field_row.required:
                        field_row.required = True
                        field_row.save(update_fields=["required", "updated_at"])
                    BundleFieldTarget.objects.create(
                        field=field_row, component=c["key"], target_field=prop
                    )
        materials_by_key: dict[str, BundleMaterial] = {}
        for order, m in enumerate(materials):
            materials_by_key[m["key"]] = BundleMaterial.objects.create(
                version=version, key=m["key"], name=m["name"], notes=m.get("notes", ""), order=order
            )
            for component, slot in m.get("targets", []):
                BundleMaterialTarget.objects.create(
                    material=materials_by_key[m["key"]], component=component, slot_key=slot
                )
        routed = {
            (t.component, t.slot_key)
            for t in BundleMaterialTarget.objects.filter(material__version=version)
        }
        if merge_materials:
            for c in components:
                current = c["item"].current_version
                if current is None:
                    continue
                for slot in current.materials.all():
                    if (c["key"], slot.key) in output_slots | routed:
                        continue
                    material = materials_by_key.get(slot.key)
                    if material is None:
                        material = materials_by_key[slot.key] = BundleMaterial.objects.create(
                            version=version,
                            key=slot.key,
                            name=slot.name,
                            notes=slot.condition_note,
                            order=len(materials_by_key),
                        )
                    BundleMaterialTarget.objects.create(
                        material=material, component=c["key"], slot_key=slot.key
                    )
    return version


# Merged fields filled in from the applicant's account when the form opens.
_PREFILL = {"applicant_name": "name", "mobile": "mobile", "contact_name": "name"}
