"""一次提交: one application with its answers, merged form and materials; one child row per
applicable component. The orchestration creates the child cases after commit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.bundles.constants import DeliveryMethod, VersionStatus
from apps.bundles.models import (
    BundleApplication,
    BundleChild,
    BundleUpload,
    BundleVersion,
)
from apps.bundles.services._base import enqueue_advance
from apps.bundles.services.guide import (
    _check_component_forms,
    applicable_components,
    merged_form,
    read_answers,
    routed_materials,
)
from apps.core import calendar
from apps.core.exceptions import DomainError
from apps.core.i18n import join_list
from apps.core.uploads import case_file_storage, check_upload, stored_name

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
    delivery_method: str = DeliveryMethod.WINDOW,
    delivery_address: str = "",
) -> BundleApplication:
    """一次提交: validate answers, the merged form and the materials, then create the
    application and one child per applicable component (all waiting); the orchestration
    creates and submits the child cases after commit.

    Raises ``DomainError`` (answers, materials) or ``ValidationError`` (form fields, keyed by
    merged field); nothing is written then. Not idempotent: each call is one application.
    """
    version = _published(version_id)
    delivery_address = (delivery_address or "").strip()
    if delivery_method not in DeliveryMethod.values:
        raise DomainError(_("请选择有效的出件方式"), code="invalid_delivery")
    if delivery_method == DeliveryMethod.POST and not delivery_address:
        raise DomainError(_("选择邮寄送达时请填写邮寄地址"), code="address_required")
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
            _("以下材料尚未上传：%(names)s") % {"names": join_list(missing)},
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
                delivery_method=delivery_method,
                delivery_address=delivery_address[:200]
                if delivery_method == DeliveryMethod.POST
                else "",
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
