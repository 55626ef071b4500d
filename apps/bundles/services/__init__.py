"""Every write of the bundles app (STYLE.md C3), split by sub-domain: ``definitions``
(versioned bundles and publish checks), ``guide`` (answers, merged form, materials),
``submission``, ``orchestration`` (child cases), ``window`` (一窗受理), ``lifecycle`` (status,
withdrawal, sweeper) and ``results`` (补正 from the bundle page, 统一出件); ``_base`` holds
what they share. Callers import from here."""

from apps.bundles.services._base import (
    derive_status,
    effective_state,
    enqueue_advance,
    is_granted,
)
from apps.bundles.services.definitions import (
    PublishRefused,
    applicant_kind,
    copy_version,
    create_bundle,
    define_bundle,
    new_draft_version,
    publish_bundle_version,
    publish_problems,
    retire_bundle,
)
from apps.bundles.services.guide import (
    applicable_components,
    merged_form,
    merged_schema,
    read_answers,
    routed_materials,
)
from apps.bundles.services.lifecycle import (
    refresh_application_status,
    sweep_bundle_applications,
    withdraw_bundle_application,
)
from apps.bundles.services.orchestration import (
    advance_bundle_application,
    on_case_decided,
    start_child,
)
from apps.bundles.services.results import (
    answer_child_supplement,
    choose_bundle_delivery,
    deliver_bundle_results,
    open_supplement_items,
)
from apps.bundles.services.submission import submit_bundle_application
from apps.bundles.services.window import accept_bundle_application

__all__ = [
    "PublishRefused",
    "accept_bundle_application",
    "advance_bundle_application",
    "answer_child_supplement",
    "applicable_components",
    "applicant_kind",
    "choose_bundle_delivery",
    "copy_version",
    "create_bundle",
    "define_bundle",
    "deliver_bundle_results",
    "derive_status",
    "effective_state",
    "enqueue_advance",
    "is_granted",
    "merged_form",
    "merged_schema",
    "new_draft_version",
    "on_case_decided",
    "open_supplement_items",
    "publish_bundle_version",
    "publish_problems",
    "read_answers",
    "refresh_application_status",
    "retire_bundle",
    "routed_materials",
    "start_child",
    "submit_bundle_application",
    "sweep_bundle_applications",
    "withdraw_bundle_application",
]
