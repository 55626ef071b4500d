"""Every write to the catalogue (STYLE.md C3).

An *actor* is a staff user (department administrator, superuser) or a department system's
``ApiClient``; both are confined to their own department's items (``permissions.py``), and a
refusal raises ``PermissionDenied`` before anything is written.

``create_item`` / ``update_item`` edit the draft and are not durable because the admin calls
them inside its own transaction; ``publish_item``, ``suspend_item``, ``resume_item`` and
``retire_item`` are entry services. Every write records an audit event last, in the same
transaction (STYLE.md S4); publishing records which elements changed against the previous
version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.catalog import codes, search
from apps.catalog.cache import bump_catalog_generation_on_commit
from apps.catalog.constants import (
    CATCH_ALL_MATERIAL_PATTERNS,
    THEMES,
    CaseKind,
    Channel,
    ItemStatus,
    MaterialForm,
    MaterialRequirement,
    OnlineDepth,
    ResultType,
    ServiceObject,
)
from apps.catalog.forms import check_form_schema
from apps.catalog.licence_types import is_known_licence_type, is_licence_type_code
from apps.catalog.models import (
    ELEMENT_FIELDS,
    MATERIAL_FIELDS,
    VARIANT_FIELDS,
    BasicItem,
    DraftMaterial,
    DraftVariant,
    HandlingVariant,
    ItemMaterial,
    ItemVersion,
    ServiceItem,
    Theme,
)
from apps.catalog.permissions import can_manage_item, can_manage_items_of
from apps.core.exceptions import DomainError
from apps.core.i18n import join_list
from apps.core.models import Department
from apps.identity.models import ApiClient, User

# Elements that may not be empty when publishing (DOMAIN.md §1.4); checked with the labels of
# the model fields so the messages name the element in Chinese.
REQUIRED_ELEMENTS = (
    "name",
    "basic_code",
    "implementation_code",
    "item_type",
    "exercise_level",
    "body_nature",
    "power_source",
    "legal_basis",
    "service_objects",
    "handling_forms",
    "conditions",
    "process_steps",
    "result_name",
    "handling_address",
    "handling_time",
    "consult_phone",
    "complaint_phone",
)


# --- helpers --------------------------------------------------------------------------------


def _audit_actor(actor: Any) -> User | None:
    return actor if isinstance(actor, User) else None


def _actor_data(actor: Any) -> dict[str, Any]:
    if isinstance(actor, ApiClient):
        return {"api_client": actor.pk, "application": actor.application.client_id}
    return {}


def _check_department(actor: Any, department_id: int) -> None:
    if not can_manage_items_of(actor, department_id):
        raise PermissionDenied(_("只能维护本部门的事项"))


def _lock_item(*, actor: Any, item_id: int) -> ServiceItem:
    try:
        item = ServiceItem.objects.select_for_update().get(pk=item_id)
    except ServiceItem.DoesNotExist as exc:
        raise DomainError(_("事项不存在"), code="item_not_found") from exc
    if not can_manage_item(actor, item):
        raise PermissionDenied(_("只能维护本部门的事项"))
    return item


def _clean_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(ELEMENT_FIELDS)
    if unknown:
        raise ValidationError({key: [_("不是事项要素")] for key in sorted(unknown)})
    return dict(fields)


def _full_clean(obj: Any, *, prefix: str = "", exclude: Iterable[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=True)
    except ValidationError as exc:
        if not prefix:
            raise
        raise ValidationError(
            {f"{prefix}.{key}": msgs for key, msgs in exc.message_dict.items()}
        ) from exc


def _replace_children(
    item: ServiceItem,
    *,
    materials: Sequence[Mapping[str, Any]] | None,
    variants: Sequence[Mapping[str, Any]] | None,
) -> None:
    if materials is not None:
        keys = [m.get("key") for m in materials]
        if len(set(keys)) != len(keys):
            raise ValidationError({"materials": [_("材料标识不能重复")]})
        item.draft_materials.all().delete()
        rows = []
        for index, record in enumerate(materials):
            values = {k: v for k, v in record.items() if k in MATERIAL_FIELDS}
            values.setdefault("order", index)
            row = DraftMaterial(item=item, **values)
            _full_clean(row, prefix=f"materials[{index}]", exclude=["item"])
            rows.append(row)
        DraftMaterial.objects.bulk_create(rows)
    if variants is not None:
        item.draft_variants.all().delete()
        rows_v = []
        for index, record in enumerate(variants):
            values = {k: v for k, v in record.items() if k in VARIANT_FIELDS}
            values.setdefault("order", index)
            row_v = DraftVariant(item=item, **values)
            _full_clean(row_v, prefix=f"variants[{index}]", exclude=["item"])
            rows_v.append(row_v)
        DraftVariant.objects.bulk_create(rows_v)


def _set_themes(item: ServiceItem, theme_codes: Iterable[str] | None) -> None:
    if theme_codes is None:
        return
    wanted = set(theme_codes)
    themes = list(Theme.objects.filter(code__in=wanted))
    missing = wanted - {t.code for t in themes}
    if missing:
        raise ValidationError(
            {"themes": [_("未知主题：%(c)s") % {"c": join_list(sorted(missing))}]}
        )
    item.themes.set(themes)


def ensure_themes() -> int:
    """Create the browsing themes of ``constants.THEMES`` that are missing. Idempotent."""
    existing = set(Theme.objects.values_list("code", flat=True))
    missing = [
        Theme(code=code, audience=audience, name=name, order=order)
        for order, (code, audience, name) in enumerate(THEMES)
        if code not in existing
    ]
    Theme.objects.bulk_create(missing)
    return len(missing)


# --- drafts ---------------------------------------------------------------------------------


@transaction.atomic  # not durable: the admin calls it inside its own transaction
def create_item(
    *,
    actor: Any,
    department: Department,
    fields: Mapping[str, Any],
    materials: Sequence[Mapping[str, Any]] = (),
    variants: Sequence[Mapping[str, Any]] = (),
    theme_codes: Iterable[str] = (),
) -> ServiceItem:
    """Create a draft implementation item for ``department``.

    Without an ``implementation_code`` one is built from the department's USCC, the exercise
    level and the basic code (DOMAIN.md §1.3). The draft is not visible to citizens until
    ``publish_item``. Not idempotent: a second call with the same code fails on uniqueness.
    """
    _check_department(actor, department.pk)
    values = _clean_fields(fields)
    basic = BasicItem.objects.filter(basic_code=values.get("basic_code", "")).first()
    if basic is not None:
        values.setdefault("name", basic.name)
        values.setdefault("item_type", basic.item_type)
        values.setdefault("legal_basis", basic.legal_basis)
    if not values.get("implementation_code") and values.get("basic_code"):
        values["implementation_code"] = codes.build_implementation_code(
            uscc=department.uscc,
            level=values.get("exercise_level", ""),
            basic_code=values["basic_code"],
        )
    item = ServiceItem(department=department, basic_item=basic, **values)
    _full_clean(item)
    item.save()
    _replace_children(item, materials=materials, variants=variants)
    _set_themes(item, theme_codes)
    record_audit_event(
        actor=_audit_actor(actor),
        action="catalog.item_created",
        obj=item,
        data={"implementation_code": item.implementation_code, **_actor_data(actor)},
    )
    return item


@transaction.atomic  # not durable: the admin calls it inside its own transaction
def update_item(
    *,
    actor: Any,
    item_id: int,
    fields: Mapping[str, Any] | None = None,
    materials: Sequence[Mapping[str, Any]] | None = None,
    variants: Sequence[Mapping[str, Any]] | None = None,
    theme_codes: Iterable[str] | None = None,
) -> ServiceItem:
    """Change the draft of an item. Published versions, and the cases on them, stay as they are.

    ``materials`` / ``variants`` given replace the draft lists entirely. The implementation
    code can not change once a version exists (cases and licences refer to it).
    """
    item = _lock_item(actor=actor, item_id=item_id)
    if item.status == ItemStatus.RETIRED:
        raise DomainError(_("事项已取消，不能修改"), code="item_retired")
    values = _clean_fields(fields or {})
    if (
        "implementation_code" in values
        and values["implementation_code"] != item.implementation_code
        and item.current_version_id is not None
    ):
        raise DomainError(_("事项发布后实施编码不能修改"), code="implementation_code_frozen")
    changed = sorted(key for key, value in values.items() if getattr(item, key) != value)
    for key in changed:
        setattr(item, key, values[key])
    item.has_unpublished_changes = True
    _full_clean(item)
    item.save()
    _replace_children(item, materials=materials, variants=variants)
    _set_themes(item, theme_codes)
    record_audit_event(
        actor=_audit_actor(actor),
        action="catalog.item_updated",
        obj=item,
        data={
            "changed": changed,
            "materials_replaced": materials is not None,
            "variants_replaced": variants is not None,
            **_actor_data(actor),
        },
    )
    return item


# --- publishing -----------------------------------------------------------------------------


def _label(field: str) -> str:
    return str(ServiceItem._meta.get_field(field).verbose_name)


def publish_problems(
    item: ServiceItem, materials: Sequence[Any], variants: Sequence[Any]
) -> dict[str, list[str]]:
    """Everything that stops ``item``'s draft from being published, keyed by element."""
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    for field in REQUIRED_ELEMENTS:
        if getattr(item, field) in ("", None, [], {}):
            add(field, _("发布前必须填写“%(label)s”") % {"label": _label(field)})

    validators = codes.code_validators()
    for message in validators["basic"](item.basic_code) if item.basic_code else []:
        add("basic_code", message)
    if item.implementation_code and item.basic_code:
        for message in validators["implementation"](
            item.implementation_code,
            department_uscc=item.department.uscc,
            exercise_level=item.exercise_level,
            basic_code=item.basic_code,
        ):
            add("implementation_code", message)
    for field in ("local_basic_code", "local_implementation_code"):
        for message in validators["local"](getattr(item, field)):
            add(field, message)

    # Time limits (DOMAIN.md §1.4): promised ≤ legal, both in working days.
    if item.legal_limit_days is None:
        add("legal_limit_days", _("发布前必须填写法定办结时限"))
    if item.promised_limit_days is None:
        add("promised_limit_days", _("发布前必须填写承诺办结时限"))
    if (
        item.legal_limit_days is not None
        and item.promised_limit_days is not None
        and item.promised_limit_days > item.legal_limit_days
    ):
        add("promised_limit_days", _("承诺办结时限不得超过法定办结时限"))
    if item.case_kind == CaseKind.PROMISED and not item.promised_limit_days:
        add("promised_limit_days", _("承诺件的承诺办结时限应大于0个工作日"))
    if item.visits_required > 0 and not item.visits_reason:
        add("visits_reason", _("需要到现场办理的，必须说明原因"))

    for field, allowed in (
        ("service_objects", ServiceObject.values),
        ("online_depth", OnlineDepth.values),
    ):
        value = getattr(item, field)
        if not isinstance(value, list) or any(v not in allowed for v in value):
            add(field, _("“%(label)s”含有无效代码") % {"label": _label(field)})
    if not isinstance(item.process_steps, list) or any(
        not isinstance(step, dict) or not step.get("name") for step in item.process_steps or []
    ):
        add("process_steps", _("每个办理环节都需要名称"))

    if not item.is_free:
        fees = item.fee_items if isinstance(item.fee_items, list) else []
        if not fees or any(not (f.get("name") and f.get("basis")) for f in fees):
            add("fee_items", _("收费事项须列明收费项目及收费依据"))
    if item.result_type == ResultType.LICENCE and not item.result_licence_type:
        add("result_licence_type", _("结果为证照的，须填写电子证照类型代码"))
    if item.result_licence_type and not is_licence_type_code(item.result_licence_type):
        add("result_licence_type", _("电子证照类型代码格式不正确"))
    elif item.result_licence_type and not is_known_licence_type(item.result_licence_type):
        add("result_licence_type", _("电子证照类型不在证照目录中"))

    if item.channel != Channel.WINDOW:
        if not item.form_schema:
            add("form_schema", _("支持网上办理的事项须提供申请表"))
        for message in check_form_schema(item.form_schema or {}):
            add("form_schema", message)

    for index, material in enumerate(materials):
        where = f"materials[{index}]"
        name = material.name.strip()
        if any(pattern in name for pattern in CATCH_ALL_MATERIAL_PATTERNS):
            add(where, _("“%(name)s”是兜底性材料，须列明具体材料名称") % {"name": name})
        if material.requirement == MaterialRequirement.CONDITIONAL and not material.condition_note:
            add(where, _("“%(name)s”为非必要材料，须说明提供情形") % {"name": name})
        if material.form != MaterialForm.ELECTRONIC and material.copies < 1:
            add(where, _("“%(name)s”须注明纸质份数") % {"name": name})
        if material.is_key and material.requirement != MaterialRequirement.REQUIRED:
            add(where, _("“%(name)s”为关键材料，应为必要材料") % {"name": name})
        bad = [c for c in material.licence_types or [] if not is_licence_type_code(c)]
        if bad:
            add(where, _("“%(name)s”的电子证照类型代码格式不正确") % {"name": name})
        elif any(not is_known_licence_type(c) for c in material.licence_types or []):
            add(where, _("“%(name)s”的电子证照类型不在证照目录中") % {"name": name})
    for index, variant in enumerate(variants):
        for message in validators["variant"](
            variant.code, implementation_code=item.implementation_code
        ):
            add(f"variants[{index}]", message)
    return problems


def _index_item(item: ServiceItem) -> None:
    """Refresh the search columns from the values being published (apps.catalog.search)."""
    objects = set(item.service_objects or [])
    item.published_name = item.name
    item.serves_person = ServiceObject.PERSON in objects
    item.serves_enterprise = bool(objects - {ServiceObject.PERSON})
    if connection.vendor != "postgresql":
        return
    text = search.IndexedText(
        name=item.name,
        name_en=item.name_en,
        keywords=item.keywords,
        department=item.department.name,
        result=item.result_name,
    )
    ServiceItem.objects.filter(pk=item.pk).update(
        search_vector=RawSQL("%s::tsvector", [search.tsvector_literal(text)])
    )


def _diff(previous: ItemVersion | None, item: ServiceItem) -> list[str]:
    if previous is None:
        return []
    return [f for f in ELEMENT_FIELDS if getattr(previous, f) != getattr(item, f)]


@transaction.atomic(durable=True)
def publish_item(*, actor: Any, item_id: int, change_note: str = "") -> ItemVersion:
    """Validate the draft and freeze it as the next immutable ``ItemVersion``.

    Refuses with ``ValidationError`` (every problem at once, keyed by element) when a required
    element is missing, the promised limit exceeds the legal one, a material is a catch-all
    ("其他材料"), or a code is malformed. Cases keep pointing at the version they were
    applied under. Not idempotent: each call creates a new version.
    """
    item = _lock_item(actor=actor, item_id=item_id)
    if not item.can_transition(ItemStatus.PUBLISHED):
        raise DomainError(_("已取消的事项不能发布"), code="item_retired")
    materials = list(item.draft_materials.all())
    variants = list(item.draft_variants.all())
    problems = publish_problems(item, materials, variants)
    if problems:
        raise ValidationError(problems)

    previous = item.current_version
    number = (item.versions.aggregate(n=Max("version"))["n"] or 0) + 1
    version = ItemVersion(
        item=item,
        version=number,
        department_id=item.department_id,
        published_at=timezone.now(),
        published_by=_audit_actor(actor),
        published_via=str(actor.application.name) if isinstance(actor, ApiClient) else "",
        change_note=change_note,
        **{field: getattr(item, field) for field in ELEMENT_FIELDS},
    )
    version.save()
    version.themes.set(item.themes.all())
    ItemMaterial.objects.bulk_create(
        ItemMaterial(version=version, **{f: getattr(m, f) for f in MATERIAL_FIELDS})
        for m in materials
    )
    HandlingVariant.objects.bulk_create(
        HandlingVariant(version=version, **{f: getattr(v, f) for f in VARIANT_FIELDS})
        for v in variants
    )
    item.current_version = version
    item.status = ItemStatus.PUBLISHED
    item.status_reason = ""
    item.has_unpublished_changes = False
    _index_item(item)
    item.save(
        update_fields=[
            "current_version",
            "status",
            "status_reason",
            "has_unpublished_changes",
            "published_name",
            "serves_person",
            "serves_enterprise",
            "updated_at",
        ]
    )
    # The published catalogue changed: cached listings, counts and searches are stale.
    bump_catalog_generation_on_commit()
    record_audit_event(
        actor=_audit_actor(actor),
        action="catalog.item_published",
        obj=item,
        data={
            "version": number,
            "implementation_code": item.implementation_code,
            "changed": _diff(previous, item),
            "materials": len(materials),
            **_actor_data(actor),
        },
    )
    return version


def _set_status(*, actor: Any, item_id: int, to: str, reason: str, action: str) -> ServiceItem:
    item = _lock_item(actor=actor, item_id=item_id)
    if not item.can_transition(to) or item.status == to:
        raise DomainError(
            _("事项当前状态为“%(s)s”，不能执行此操作") % {"s": item.get_status_display()},
            code="invalid_transition",
        )
    if to == ItemStatus.PUBLISHED and item.current_version_id is None:
        raise DomainError(_("事项尚未发布过，请先发布"), code="never_published")
    previous = item.status
    item.status = to
    item.status_reason = reason
    item.save(update_fields=["status", "status_reason", "updated_at"])
    bump_catalog_generation_on_commit()  # the item leaves or rejoins the public catalogue
    record_audit_event(
        actor=_audit_actor(actor),
        action=action,
        obj=item,
        data={"from": previous, "to": to, "reason": reason, **_actor_data(actor)},
    )
    return item


@transaction.atomic(durable=True)
def suspend_item(*, actor: Any, item_id: int, reason: str) -> ServiceItem:
    """Stop new applications (暂停办理); running cases continue on their version."""
    if not reason.strip():
        raise ValidationError({"reason": [_("请说明暂停办理的原因")]})
    return _set_status(
        actor=actor,
        item_id=item_id,
        to=ItemStatus.SUSPENDED,
        reason=reason,
        action="catalog.item_suspended",
    )


@transaction.atomic(durable=True)
def resume_item(*, actor: Any, item_id: int) -> ServiceItem:
    """Accept applications again on the current version (no new version)."""
    return _set_status(
        actor=actor,
        item_id=item_id,
        to=ItemStatus.PUBLISHED,
        reason="",
        action="catalog.item_resumed",
    )


@transaction.atomic(durable=True)
def retire_item(*, actor: Any, item_id: int, reason: str) -> ServiceItem:
    """Cancel the item for good (取消); versions stay for the cases that refer to them."""
    if not reason.strip():
        raise ValidationError({"reason": [_("请说明取消事项的原因")]})
    return _set_status(
        actor=actor,
        item_id=item_id,
        to=ItemStatus.RETIRED,
        reason=reason,
        action="catalog.item_retired",
    )
