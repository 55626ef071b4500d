"""Every write of the identity app (STYLE.md C3): accounts, real-name levels, enterprises,
licence administrators and agent authorisations.

Entry services are ``atomic(durable=True)``, lock what they change, and record an audit event as
their last database step. Audit data never carries ID or phone numbers in clear (STYLE.md N5).

The package is split by sub-domain: ``accounts`` (SMS codes, registration, real-name levels),
``enterprises`` (binding, registry rechecks, licence administrators, agent authorisations),
``codes`` (service codes), ``reveal`` (audited reveal of full ID numbers) and ``window``
(identifying a walk-in at the window); everything public is re-exported here.
"""

from apps.identity.services.accounts import (
    create_person_account,
    end_all_sessions,
    match_population_registry,
    raise_assurance_level,
    register_person,
    send_phone_code,
    verify_in_person_at_window,
    verify_level_three,
    verify_real_name,
)
from apps.identity.services.codes import (
    IdentifiedHolder,
    IssuedServiceCode,
    issue_service_code,
    redeem_service_code,
)
from apps.identity.services.enterprises import (
    RegistryRecheck,
    add_licence_administrator,
    bind_enterprise,
    default_authorisation_expiry,
    grant_agent_authorisation,
    recheck_bound_enterprises,
    recheck_enterprise_against_registry,
    remove_licence_administrator,
    revoke_agent_authorisation,
    sync_legal_person_record,
)
from apps.identity.services.reveal import (
    MIN_REVEAL_REASON,
    grant_reveal_permission,
    reveal_person_id_number,
    revoke_reveal_permission,
)
from apps.identity.services.window import (
    WindowApplicant,
    identify_at_window,
    registry_names_legal_rep,
)

__all__ = [
    "MIN_REVEAL_REASON",
    "IdentifiedHolder",
    "IssuedServiceCode",
    "RegistryRecheck",
    "WindowApplicant",
    "add_licence_administrator",
    "bind_enterprise",
    "create_person_account",
    "default_authorisation_expiry",
    "end_all_sessions",
    "grant_agent_authorisation",
    "grant_reveal_permission",
    "identify_at_window",
    "issue_service_code",
    "match_population_registry",
    "raise_assurance_level",
    "recheck_bound_enterprises",
    "recheck_enterprise_against_registry",
    "redeem_service_code",
    "register_person",
    "registry_names_legal_rep",
    "remove_licence_administrator",
    "reveal_person_id_number",
    "revoke_agent_authorisation",
    "revoke_reveal_permission",
    "send_phone_code",
    "sync_legal_person_record",
    "verify_in_person_at_window",
    "verify_level_three",
    "verify_real_name",
]
