from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    name = "apps.licences"
    label = "licences"
    verbose_name = _("电子证照")

    def ready(self) -> None:
        # The seams (ARCHITECTURE.md: licences depends on catalog and cases, never the reverse).
        from apps.cases.hooks import register_decision_handler
        from apps.cases.materials import register_licence_resolver, register_wallet_lookup
        from apps.catalog.licence_types import register_licence_type_source
        from apps.licences.catalogue import catalogue_table
        from apps.licences.selectors import wallet_licences_for
        from apps.licences.services import issue_result_licence, resolve_licence_for_case

        register_licence_type_source(catalogue_table)
        register_decision_handler(issue_result_licence)
        register_licence_resolver(resolve_licence_for_case)
        register_wallet_lookup(wallet_licences_for)
