from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = _("基础数据")

    def ready(self) -> None:
        # Registers the system check that keeps uploads outside the web root.
        from apps.core import uploads  # noqa: F401
