from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BundlesConfig(AppConfig):
    name = "apps.bundles"
    label = "bundles"
    verbose_name = _("一件事一次办")

    def ready(self) -> None:
        # A decided child case moves its bundle on; the cases app calls the handler inside the
        # decision's transaction (apps/cases/hooks.py). The dependency points one way.
        # Registers the tasks so enqueue-by-name finds them in every process (eager mode too).
        import apps.bundles.tasks  # noqa: F401
        from apps.bundles.panels import bundle_case_panel
        from apps.bundles.services import on_case_decided
        from apps.cases.hooks import register_case_panel, register_decision_handler

        register_decision_handler(on_case_decided)
        # Where a child case sits in its bundle, on the office case screen.
        register_case_panel(bundle_case_panel)
