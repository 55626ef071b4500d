from django.apps import AppConfig
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
