from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from apps.notifications.selectors import unread_count


def unread_messages(request: HttpRequest) -> dict[str, Any]:
    """``unread_messages`` for the header badge: computed only when a template reads it, once
    per request, and then from the cache (no query) until a notice is created or read."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_messages": 0}
    if not hasattr(request, "_unread_messages"):
        request._unread_messages = SimpleLazyObject(lambda: unread_count(user.pk))  # type: ignore[attr-defined]
    return {"unread_messages": request._unread_messages}  # type: ignore[attr-defined]
