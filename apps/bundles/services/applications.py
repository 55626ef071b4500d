"""Bundle applications: the guide's answers, one form, one set of materials, one submission,
and the orchestration of the child cases (DOMAIN.md §5.3).

Child cases are made through the cases app's public services, each in its own durable
transaction, so one child's progress is a sequence of small steps, each safe to repeat:

1. **claim** the ``BundleChild`` row (``state=starting``, a fresh ``claim_token``, a lease);
2. **draft**: create the case with the mapped form (or adopt the draft a killed worker left
   behind: same applicant and item version, created after the first claim, not linked yet);
3. **materials**: copy each routed upload (and each licence passed on from an upstream child)
   into the slots still empty;
4. **submit** the case unless it already is;
5. **record** ``state=submitted`` if the claim is still ours.

A child starts when every applicable upstream child is decided (准予 or 部分准予); a refused,
closed or failed upstream blocks it. ``advance_bundle_application`` is idempotent and is
enqueued by name after submission, after each child decision (``on_case_decided``, the cases
app's decision hook) and by the sweeper.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.bundles import conditions
from apps.bundles.constants import (
    CHILD_OPEN_STATES,
    ApplicationStatus,
    ChildState,
    OutputSource,
    OutputTarget,
    QuestionKind,
    VersionStatus,
)
from apps.bundles.models import (
    BundleApplication,
    BundleChild,
    BundleComponent,
    BundleQuestion,
    BundleUpload,
    BundleVersion,
)
from apps.bundles.services.definitions import applicant_kind
from apps.cases.constants import CaseStatus, Decision
from apps.cases.exceptions import CaseActionForbidden, IllegalTransition
from apps.cases.models import Case
from apps.cases.permissions import CLERK_ROLES, CaseActor
from apps.cases.services import (
    accept_case,
    add_material_licence,
    add_material_upload,
    create_draft,
    submit_case,
    withdraw_case,
)
from apps.catalog.forms import build_application_form, validate_application_data
from apps.core import calendar
from apps.core.exceptions import DomainError
from apps.core.queue import enqueue
from apps.core.uploads import case_file_storage, check_upload, stored_name

logger = logging.getLogger(__name__)

ADVANCE_TASK = "bundles.advance"
GRANTED = {Decision.APPROVED, Decision.PARTIAL}
_CLOSED_CASE_STATES = {
    CaseStatus.NOT_ACCEPTED,
    CaseStatus.SUPPLEMENT_EXPIRED,
    CaseStatus.WITHDRAWN,
}
_DECIDED_CASE_STATES = {CaseStatus.DECIDED, CaseStatus.COMPLETED, CaseStatus.DELIVERED}


def enqueue_advance(application_id: int) -> None:
    """Enqueue the orchestration by task name (no import of the tasks module: no cycle)."""
    enqueue(ADVANCE_TASK, application_id)


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


# --- submission --------------------------------------------------------------------------------


def _published(version_id: int) -> BundleVersion:
    version = (
        BundleVersion.objects.select_related("bundle")
        .prefetch_related(
            "fields__targets",
            "materials__targets",
            "outputs",
            "edges",
            "questions",
            "components__item_version__materials",
        )
        .filter(pk=version_id)
        .first()
    )
    if version is None or version.status != VersionStatus.PUBLISHED:
        raise DomainError(_("该一件事当前不可申请"), code="not_published")
    return version


def submit_bundle_application(
    *,
    user: Any,
    version_id: int,
    answers: Mapping[str, Any],
    form_data: Mapping[str, Any],
    files: Mapping[str, Any],
    enterprise: Any | None = None,
) -> BundleApplication:
    """一次提交: validate answers, the merged form and the materials, then create the
    application and one child per applicable component (all waiting); the orchestration
    creates and submits the child cases after commit.

    Raises ``DomainError`` (answers, materials) or ``ValidationError`` (form fields, keyed by
    merged field); nothing is written then. Not idempotent: each call is one application.
    """
    version = _published(version_id)
    questions = list(version.questions.all())
    clean, errors, unanswered = read_answers(questions, answers)
    if errors or unanswered:
        raise DomainError(_("请先回答全部引导问题"), code="answers_incomplete")
    components = applicable_components(list(version.components.all()), clean)
    keys = {c.key for c in components}
    if getattr(user, "assurance_level", 1) < max(
        int(c.item_version.min_assurance_level or 1) for c in components
    ):
        raise DomainError(_("办理该一件事需要更高的实名等级，请先提升实名等级"), code="assurance")
    form = merged_form(version, keys, form_data)
    if not form.is_valid():
        raise ValidationError({k: list(v) for k, v in form.errors.items()})
    cleaned = form.json_data()
    _check_component_forms(version, components, cleaned)
    checked = {}
    missing = []
    for material, required in routed_materials(version, components):
        upload = files.get(material.key)
        if upload is None:
            if required:
                missing.append(material.name)
            continue
        checked[material.key] = (upload, check_upload(upload))
    if missing:
        raise DomainError(
            _("以下材料尚未上传：%(names)s") % {"names": "、".join(missing)},
            code="materials_missing",
        )
    storage = case_file_storage()
    stored: list[str] = []
    try:
        with transaction.atomic(durable=True):
            now = timezone.now()
            application = BundleApplication(
                bundle=version.bundle,
                version=version,
                applicant_user=user,
                enterprise=enterprise,
                applicant_name=str(
                    enterprise.name if enterprise is not None else user.display_name
                )[:200],
                answers=clean,
                submitted_at=now,
                deadline=calendar.working_deadline(now, version.promised_limit_days),
            )
            application.form = cleaned
            application.save()
            for key, (upload, info) in checked.items():
                name = storage.save(f"bundles/{stored_name(info)}", upload)
                stored.append(name)
                BundleUpload.objects.create(
                    application=application,
                    material_key=key,
                    file=name,
                    original_name=info.original_name[:200],
                    content_type=info.content_type,
                    size=info.size,
                    sha256=info.sha256,
                )
            BundleChild.objects.bulk_create(
                [BundleChild(application=application, component=c) for c in components]
            )
            record_audit_event(
                actor=user,
                action="bundles.application_submitted",
                obj=application,
                data={"version": version.pk, "components": sorted(keys)},
            )
            transaction.on_commit(lambda: enqueue_advance(application.pk))
    except Exception:
        for name in stored:
            storage.delete(name)
        raise
    return application


# --- orchestration -------------------------------------------------------------------------


def _effective(child: BundleChild) -> str:
    """The child's state with what happened to its case since (a refusal at acceptance or a
    withdrawal has no hook)."""
    case = child.case
    if child.state == ChildState.SUBMITTED and case is not None:
        if case.status in _CLOSED_CASE_STATES:
            return ChildState.CLOSED
        if case.status in _DECIDED_CASE_STATES:
            return ChildState.DECIDED
    return child.state


def _granted(child: BundleChild) -> bool:
    decision = child.decision or (child.case.decision if child.case is not None else "")
    return _effective(child) == ChildState.DECIDED and decision in GRANTED


def derive_status(states: Sequence[tuple[str, bool]], *, withdrawn: bool = False) -> str:
    """The application's status from its children's ``(effective state, granted)``."""
    if withdrawn:
        return ApplicationStatus.WITHDRAWN
    if any(state in CHILD_OPEN_STATES for state, _granted in states):
        return ApplicationStatus.IN_PROGRESS
    if all(state == ChildState.DECIDED and granted for state, granted in states):
        return ApplicationStatus.CONCLUDED
    return ApplicationStatus.PARTLY_CONCLUDED


def _children(application: BundleApplication) -> list[BundleChild]:
    return list(
        application.children.select_related("component", "case").order_by("component__order", "pk")
    )


def advance_bundle_application(*, application_id: int) -> dict[str, int]:
    """Start every child whose upstream children are all granted, block those whose upstream
    was refused, and bring the application's status up to date. Idempotent; safe to run
    concurrently (each child start is claimed under a row lock)."""
    application = (
        BundleApplication.objects.select_related("version").filter(pk=application_id).first()
    )
    if application is None or application.status == ApplicationStatus.WITHDRAWN:
        return {"started": 0, "blocked": 0}
    started_at = timezone.now()
    edges = [(e.upstream, e.downstream) for e in application.version.edges.all()]
    started = blocked = 0
    for _round in range(len(edges) + 2):
        children = _children(application)
        by_key = {c.component.key: c for c in children}
        progress = False
        for child in children:
            now = timezone.now()
            lease_over = child.lease_until is None or child.lease_until < now
            if not (
                child.state == ChildState.WAITING
                or (child.state == ChildState.STARTING and lease_over)
            ):
                continue
            ups = [by_key[u] for u, d in edges if d == child.component.key and u in by_key]
            if any(_effective(u) not in CHILD_OPEN_STATES and not _granted(u) for u in ups):
                if _block_child(child.pk):
                    blocked += 1
                    progress = True
            elif all(_granted(u) for u in ups) and start_child(child_id=child.pk):
                started += 1
                progress = True
        if not progress:
            break
    refresh_application_status(application_id=application_id, advanced_at=started_at)
    return {"started": started, "blocked": blocked}


def _block_child(child_id: int) -> bool:
    with transaction.atomic(durable=True):
        child = BundleChild.objects.select_for_update().get(pk=child_id)
        if child.state != ChildState.WAITING:
            return False
        child.state = ChildState.BLOCKED
        child.save(update_fields=["state", "updated_at"])
        record_audit_event(actor=None, action="bundles.child_blocked", obj=child)
    return True


def _claim(child_id: int) -> uuid.UUID | None:
    with transaction.atomic(durable=True):
        child = BundleChild.objects.select_for_update().get(pk=child_id)
        now = timezone.now()
        if child.state == ChildState.STARTING and child.lease_until and child.lease_until > now:
            return None
        if child.state not in (ChildState.WAITING, ChildState.STARTING):
            return None
        child.state = ChildState.STARTING
        child.claim_token = uuid.uuid4()
        child.claimed_at = child.claimed_at or now
        child.lease_until = now + timedelta(seconds=settings.BUNDLE_CLAIM_LEASE_SECONDS)
        child.attempts += 1
        child.save(
            update_fields=[
                "state",
                "claim_token",
                "claimed_at",
                "lease_until",
                "attempts",
                "updated_at",
            ]
        )
    return child.claim_token


def _mapped_inputs(child: BundleChild, version: BundleVersion) -> tuple[dict, dict]:
    """``(form fields, material licences)`` passed on from decided upstream children."""
    form: dict[str, Any] = {}
    licences: dict[str, str] = {}
    outputs = [o for o in version.outputs.all() if o.target_component == child.component.key]
    if not outputs:
        return form, licences
    sources = {
        c.component.key: c.case
        for c in child.application.children.select_related("component", "case")
        if c.case is not None
    }
    for o in outputs:
        case = sources.get(o.source_component)
        if case is None:
            continue
        result = case.result_data or {}
        if o.source_kind == OutputSource.LICENCE:
            value = str((result.get("licence") or {}).get("identifier") or "")
        else:
            value = str(result.get(o.source_field) or "")
        if not value:
            continue
        if o.target_kind == OutputTarget.FORM_FIELD:
            form[o.target_name] = value
        else:
            licences[o.target_name] = value
    return form, licences


def _adopt_orphan(child: BundleChild, user: Any) -> Case | None:
    """The draft an interrupted start created but did not record."""
    return (
        Case.objects.filter(
            item_version_id=child.component.item_version_id,
            acting_user=user,
            status=CaseStatus.DRAFT,
            created_at__gte=child.claimed_at,
            bundle_child__isnull=True,
        )
        .order_by("pk")
        .first()
    )


def _still_ours(child_id: int, token: uuid.UUID) -> BundleChild | None:
    child = BundleChild.objects.select_for_update().get(pk=child_id)
    return child if child.claim_token == token and child.state == ChildState.STARTING else None


def start_child(*, child_id: int) -> bool:
    """Create, fill and submit the child's case (steps in the module docstring). Returns
    whether this call submitted it. A refusal by the cases app (a form or material rule) marks
    the child failed with the reason, for the applicant's page."""
    token = _claim(child_id)
    if token is None:
        return False
    child = BundleChild.objects.select_related(
        "component__item_version", "application__version", "application__applicant_user", "case"
    ).get(pk=child_id)
    application = child.application
    version = _published_or_retired(application.version_id)
    user = application.applicant_user
    actor = CaseActor.of(user)
    try:
        mapped_form, mapped_licences = _mapped_inputs(child, version)
        case = child.case or _adopt_orphan(child, user)
        if case is None:
            form = {**_component_form(version, child.component.key, application.form)}
            form.update(mapped_form)
            case = create_draft(
                user=user,
                version=child.component.item_version,
                enterprise=application.enterprise,
                form_data=form,
            )
        if child.case_id is None:
            with transaction.atomic(durable=True):
                mine = _still_ours(child_id, token)
                if mine is None:
                    return False
                mine.case = case
                mine.inputs = {**mapped_form, **mapped_licences}
                mine.save(update_fields=["case", "inputs", "updated_at"])
        case.refresh_from_db()
        if case.status == CaseStatus.DRAFT:
            _fill_materials(child, version, case, actor, mapped_licences)
            submit_case(case_id=case.pk, actor=actor)
    except (DomainError, ValidationError) as exc:
        message = exc.message if isinstance(exc, DomainError) else "；".join(exc.messages)
        logger.warning(
            "bundles.child_failed", extra={"child_id": child_id, "code": getattr(exc, "code", "")}
        )
        with transaction.atomic(durable=True):
            mine = _still_ours(child_id, token)
            if mine is not None:
                mine.state = ChildState.FAILED
                mine.last_error = message
                mine.lease_until = None
                mine.save(update_fields=["state", "last_error", "lease_until", "updated_at"])
                record_audit_event(
                    actor=None, action="bundles.child_failed", obj=mine, data={"error": message}
                )
        return False
    with transaction.atomic(durable=True):
        mine = _still_ours(child_id, token)
        if mine is None:
            return False
        mine.state = ChildState.SUBMITTED
        mine.started_at = timezone.now()
        mine.lease_until = None
        mine.save(update_fields=["state", "started_at", "lease_until", "updated_at"])
        record_audit_event(
            actor=None, action="bundles.child_submitted", obj=mine, data={"case": case.pk}
        )
    if application.accepted_by_id is not None:
        _accept_child(case.pk, application.accepted_by)
    return True


_ACCEPTABLE = {CaseStatus.SUBMITTED, CaseStatus.PRECHECKED, CaseStatus.SUPPLEMENTED}


def _accept_child(case_id: int, clerk: Any) -> bool:
    """Accept one child case for its department in ``clerk``'s name; False when the clerk
    may not (no role in that department) or the case is not awaiting acceptance."""
    try:
        accept_case(case_id=case_id, actor=CaseActor.of(clerk))
    except (CaseActionForbidden, IllegalTransition, DomainError) as exc:
        logger.info(
            "bundles.child_not_accepted",
            extra={"case_id": case_id, "code": getattr(exc, "code", "")},
        )
        return False
    return True


def accept_bundle_application(*, application_id: int, clerk: Any) -> dict[str, int]:
    """一窗受理: the comprehensive-window clerk accepts the bundle once. Every child case now
    awaiting acceptance is accepted for its own department (its own 办件编号 and legal
    acceptance through the cases state machine); children started later are accepted as they
    are submitted. Returns ``{"accepted": n, "left": m}`` (m: children the clerk holds no
    window role for, left to their department). Refused when the clerk serves none of the
    bundle's departments or the application is not in progress."""
    with transaction.atomic(durable=True):
        application = BundleApplication.objects.select_for_update().get(pk=application_id)
        if application.status != ApplicationStatus.IN_PROGRESS:
            raise DomainError(_("该一件事不在办理中，不能受理"), code="illegal_transition")
        departments = set(
            application.children.values_list("component__item_version__department_id", flat=True)
        )
        served = set(
            clerk.memberships.filter(
                department_id__in=departments, is_active=True, role__in=CLERK_ROLES
            ).values_list("department_id", flat=True)
        )
        if not served:
            raise DomainError(_("您不是该一件事任何部门的窗口人员"), code="forbidden")
        if application.accepted_at is None:
            application.accepted_at = timezone.now()
            application.accepted_by = clerk
            application.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
            record_audit_event(actor=clerk, action="bundles.accepted", obj=application)
    accepted = left = 0
    for child in application.children.filter(case__status__in=list(_ACCEPTABLE)):
        if _accept_child(child.case_id, clerk):
            accepted += 1
        else:
            left += 1
    return {"accepted": accepted, "left": left}


def _published_or_retired(version_id: int) -> BundleVersion:
    return BundleVersion.objects.prefetch_related(
        "fields__targets", "materials__targets", "outputs"
    ).get(pk=version_id)


def _fill_materials(
    child: BundleChild,
    version: BundleVersion,
    case: Case,
    actor: CaseActor,
    licences: Mapping[str, str],
) -> None:
    present = set(case.materials.filter(is_current=True).values_list("slot_key", flat=True))
    uploads = {u.material_key: u for u in child.application.uploads.all()}
    storage = case_file_storage()
    for material in version.materials.all():
        upload = uploads.get(material.key)
        if upload is None:
            continue
        for target in material.targets.all():
            if target.component != child.component.key or target.slot_key in present:
                continue
            with storage.open(upload.file.name, "rb") as handle:
                add_material_upload(
                    case_id=case.pk,
                    actor=actor,
                    slot_key=target.slot_key,
                    upload=File(handle, name=upload.original_name),
                )
            present.add(target.slot_key)
    for slot_key, identifier in licences.items():
        if slot_key not in present:
            add_material_licence(
                case_id=case.pk, actor=actor, slot_key=slot_key, identifier=identifier
            )


def on_case_decided(event: Any) -> None:
    """Decision handler (apps.cases.hooks): runs inside the decision's transaction. Marks the
    child decided and enqueues the orchestration after commit; any other case: nothing."""
    child = BundleChild.objects.select_for_update().filter(case_id=event.case.pk).first()
    if child is None:
        return
    child.state = ChildState.DECIDED
    child.decision = event.decision
    child.decided_at = timezone.now()
    child.save(update_fields=["state", "decision", "decided_at", "updated_at"])
    record_audit_event(
        actor=None, action="bundles.child_decided", obj=child, data={"decision": event.decision}
    )
    application_id = child.application_id
    transaction.on_commit(lambda: enqueue_advance(application_id))


def _status_note(children: Sequence[BundleChild], status: str) -> str:
    if status != ApplicationStatus.PARTLY_CONCLUDED:
        return ""
    stopped = [c for c in children if _effective(c) != ChildState.DECIDED or not _granted(c)]
    names = "、".join(c.component.item_version.name for c in stopped if c.component.item_version)
    return _(
        "以下事项未能办成：%(names)s。依赖它们的后续事项无法继续办理；其余已办结事项的结果"
        "不受影响，您可以在调整后单独申请未办成的事项。"
    ) % {"names": names}


def refresh_application_status(
    *, application_id: int, advanced_at: Any | None = None
) -> BundleApplication:
    """Re-derive the application's status from its children (audited when it changes)."""
    with transaction.atomic(durable=True):
        application = BundleApplication.objects.select_for_update().get(pk=application_id)
        children = list(application.children.select_related("component__item_version", "case"))
        status = derive_status(
            [(_effective(c), _granted(c)) for c in children],
            withdrawn=application.withdrawn_at is not None,
        )
        fields = ["updated_at"]
        if advanced_at is not None:
            application.advanced_at = advanced_at
            fields.append("advanced_at")
        changed = status != application.status
        if changed:
            application.status = status
            application.status_note = _status_note(children, status)
            application.concluded_at = (
                timezone.now() if status != ApplicationStatus.IN_PROGRESS else None
            )
            fields += ["status", "status_note", "concluded_at"]
        application.save(update_fields=fields)
        if changed:
            record_audit_event(
                actor=None,
                action="bundles.status_changed",
                obj=application,
                data={"status": status},
            )
    return application


def withdraw_bundle_application(
    *, application_id: int, user: Any, reason: str = ""
) -> BundleApplication:
    """撤回整件: stop the orchestration, close the children not yet started and withdraw each
    child case that can still be withdrawn (decided ones stay). Idempotent."""
    with transaction.atomic(durable=True):
        application = BundleApplication.objects.select_for_update().get(pk=application_id)
        if application.applicant_user_id != getattr(user, "pk", None):
            raise DomainError(_("您无权撤回该申请"), code="forbidden")
        if application.status != ApplicationStatus.IN_PROGRESS and not application.withdrawn_at:
            raise DomainError(_("该一件事已办结，不能撤回"), code="illegal_transition")
        application.withdrawn_at = application.withdrawn_at or timezone.now()
        application.status = ApplicationStatus.WITHDRAWN
        application.save(update_fields=["withdrawn_at", "status", "updated_at"])
        application.children.filter(state__in=[ChildState.WAITING, ChildState.STARTING]).update(
            state=ChildState.CLOSED, lease_until=None, updated_at=timezone.now()
        )
        record_audit_event(actor=user, action="bundles.withdrawn", obj=application)
    for child in application.children.filter(case__isnull=False).select_related("case"):
        if child.case.is_terminal or child.case.status in _DECIDED_CASE_STATES:
            continue
        try:
            withdraw_case(
                case_id=child.case_id, actor=CaseActor.of(user), reason=reason or _("撤回一件事")
            )
        except (IllegalTransition, DomainError):
            logger.info("bundles.child_not_withdrawable", extra={"child_id": child.pk})
    return application


def sweep_bundle_applications(*, stale_after: timedelta | None = None) -> int:
    """Re-enqueue the orchestration of applications with work it has not seen: a child decided
    after the last pass, an expired claim, a submitted child whose case closed, or no pass at
    all (the task was lost with a worker or Redis). Returns how many were enqueued."""
    now = timezone.now()
    if stale_after is None:
        stale_after = timedelta(seconds=settings.BUNDLE_SWEEP_STALE_SECONDS)
    cutoff = now - stale_after
    pending_children = BundleChild.objects.filter(application=OuterRef("pk")).filter(
        Q(decided_at__gt=F("application__advanced_at"))
        | Q(state=ChildState.STARTING, lease_until__lt=now)
        | Q(state=ChildState.SUBMITTED, case__status__in=list(_CLOSED_CASE_STATES))
    )
    ids = list(
        BundleApplication.objects.filter(status=ApplicationStatus.IN_PROGRESS)
        .filter(
            Q(advanced_at__isnull=True, submitted_at__lt=cutoff)
            | Q(Exists(pending_children), updated_at__lt=cutoff)
        )
        .values_list("pk", flat=True)[:1000]
    )
    for application_id in ids:
        enqueue_advance(application_id)
    if ids:
        logger.info("bundles.swept", extra={"count": len(ids)})
    return len(ids)
