from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = _("消息通知")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from apps.notifications.selectors import warm_unread_count

        # Not domain logic: fills the header badge's cache at sign-in, so pages read the
        # unread count from the cache (a query only after a notice is created or read).
        user_logged_in.connect(warm_unread_count, dispatch_uid="notifications.warm_unread")
