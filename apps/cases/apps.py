from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "apps.cases"
    label = "cases"
    verbose_name = _("办件")

    def ready(self) -> None:
        # Registers the system check that keeps uploads outside the web root.
        from apps.cases import uploads  # noqa: F401
