from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "apps.cases"
    label = "cases"
    verbose_name = _("办件")

    def ready(self) -> None:
        from apps.cases.identity_hooks import staff_handles_person_case
        from apps.identity.permissions import register_reveal_basis

        register_reveal_basis("case", staff_handles_person_case)

        # Loading a year's holiday arrangement recomputes the open deadlines it moves.
        from apps.cases.services import recompute_deadlines_for_year
        from apps.core.calendar import register_arrangement_handler

        register_arrangement_handler(recompute_deadlines_for_year)

        # /metrics: cases past their SLA (apps/core/metrics.py).
        from apps.cases.selectors import metrics_samples
        from apps.core.metrics import register_metrics_provider

        register_metrics_provider("cases", metrics_samples)

        from apps.cases.services import claim_walk_in_cases
        from apps.identity.hooks import register_walk_in_claim_handler

        register_walk_in_claim_handler("cases", claim_walk_in_cases)

        # What the applicant is told (the kinds on the message preferences page).
        from apps.cases.notices import register_kinds

        register_kinds()

        if apps.is_installed("apps.handoffs"):
            from apps.cases.services import apply_department_answer
            from apps.handoffs.registry import (
                register_answer_handler,
                register_event_labels,
            )

            register_answer_handler("cases.case", apply_department_answer)
            register_event_labels({"case.accepted": _("办件已受理，推送审批部门")})
