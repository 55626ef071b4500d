from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HandoffsConfig(AppConfig):
    name = "apps.handoffs"
    label = "handoffs"
    verbose_name = _("跨部门交接")

    def ready(self) -> None:
        from apps.core.metrics import register_metrics_provider
        from apps.core.selectors import register_health_detail
        from apps.handoffs.selectors import handoff_health, metrics_samples

        register_health_detail("handoffs", handoff_health)
        from apps.handoffs.registry import register_event_labels

        register_event_labels({"demo.notice": _("演示交接")})
        register_metrics_provider("handoffs", metrics_samples)
