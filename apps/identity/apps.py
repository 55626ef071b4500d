from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "apps.identity"
    label = "identity"
    verbose_name = _("统一身份认证")

    def ready(self) -> None:
        # Session plumbing, not domain logic (STYLE.md bans signals for the latter): every way
        # of logging in (our page, the admin, test clients' force_login) must flag staff
        # sessions for the idle timeout.
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        # Registers the client-credentials scheme with drf-spectacular (an extension is found
        # by being imported).
        import apps.identity.schema  # noqa: F401
        from apps.identity.middleware import mark_staff_session
        from apps.identity.throttle import record_failure

        user_logged_in.connect(mark_staff_session, dispatch_uid="identity.mark_staff_session")
        # Login plumbing too: failed logins count against the client's address.
        user_login_failed.connect(record_failure, dispatch_uid="identity.login_ip_failure")
        # Cache plumbing: the cached account and posts are dropped whenever their rows change.
        from apps.identity import principal

        principal.connect()
