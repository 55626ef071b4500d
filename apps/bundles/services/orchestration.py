"""一网办理: the orchestration of a bundle application's child cases (DOMAIN.md §5.3).

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
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from apps.audit.services import record_audit_event
from apps.bundles.constants import (
    CHILD_OPEN_STATES,
    ApplicationStatus,
    ChildState,
    OutputSource,
    OutputTarget,
)
from apps.bundles.models import (
    BundleApplication,
    BundleChild,
    BundleVersion,
)
from apps.bundles.services._base import _children, effective_state, enqueue_advance, is_granted
from apps.bundles.services.guide import _component_form
from apps.bundles.services.lifecycle import refresh_application_status
from apps.bundles.services.results import deliver_issued_to_wallet
from apps.bundles.services.window import _accept_child
from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.cases.services import (
    CaseActor,
    add_material_licence,
    add_material_upload,
    create_draft,
    submit_case,
)
from apps.core.exceptions import DomainError
from apps.core.uploads import case_file_storage

logger = logging.getLogger(__name__)


# --- orchestration -------------------------------------------------------------------------


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
            if any(effective_state(u) not in CHILD_OPEN_STATES and not is_granted(u) for u in ups):
                if _block_child(child.pk):
                    blocked += 1
                    progress = True
            elif all(is_granted(u) for u in ups) and start_child(child_id=child.pk):
                started += 1
                progress = True
        if not progress:
            break
    refresh_application_status(application_id=application_id, advanced_at=started_at)
    deliver_issued_to_wallet(application_id=application_id)
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
