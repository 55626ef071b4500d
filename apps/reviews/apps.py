from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "apps.reviews"
    label = "reviews"
    verbose_name = _("好差评")

    def ready(self) -> None:
        # The case page shows the rating panel through the cases app's panel seam; the
        # dependency points one way (reviews → cases).
        from apps.cases.hooks import register_case_panel
        from apps.reviews.panels import case_rating_panel

        register_case_panel(case_rating_panel)

        if apps.is_installed("apps.handoffs"):
            from apps.handoffs.registry import register_event_labels

            register_event_labels(
                {
                    "reviews.rating": _("好差评评价上报国家平台"),
                    "reviews.rectification": _("差评整改结果上报国家平台"),
                }
            )
