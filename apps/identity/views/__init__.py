"""Identity pages, by sub-domain: ``accounts`` (login, logout, registration, password reset,
lockout), ``profile`` (个人中心 and its actions), ``service_code`` (一人一码 / 一企一码) and
``office`` (the clerk's identify screen, reveal grants). The URL modules and the
``AXES_LOCKOUT_CALLABLE`` setting use the names re-exported here.
"""

from apps.identity.views.accounts import (
    OFFICE_PREFIX,
    PortalLoginView,
    StaffLoginView,
    lockout_response,
    logout_view,
    password_reset,
    register,
    reset_throttled,
)
from apps.identity.views.office import (
    IDENTIFIED_SESSION_KEY,
    identify_staff_required,
    office_identify,
    office_reveal_grants,
    office_reveal_id_number,
    office_revoke_reveal_grant,
    office_verify_in_person,
)
from apps.identity.views.profile import (
    add_licence_admin,
    bind_enterprise,
    grant_agent,
    level_three,
    profile,
    remove_licence_admin,
    revoke_agent,
    safe_next,
    verify_real_name,
)
from apps.identity.views.service_code import (
    SERVICE_CODE_AUTO_REFRESHES,
    SERVICE_CODE_REFRESH_BEFORE_SECONDS,
    service_code,
)

__all__ = [
    "IDENTIFIED_SESSION_KEY",
    "OFFICE_PREFIX",
    "SERVICE_CODE_AUTO_REFRESHES",
    "SERVICE_CODE_REFRESH_BEFORE_SECONDS",
    "PortalLoginView",
    "StaffLoginView",
    "add_licence_admin",
    "bind_enterprise",
    "grant_agent",
    "identify_staff_required",
    "level_three",
    "lockout_response",
    "logout_view",
    "office_identify",
    "office_reveal_grants",
    "office_reveal_id_number",
    "office_revoke_reveal_grant",
    "office_verify_in_person",
    "password_reset",
    "profile",
    "register",
    "remove_licence_admin",
    "reset_throttled",
    "revoke_agent",
    "safe_next",
    "service_code",
    "verify_real_name",
]
