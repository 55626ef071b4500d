"""Password login by username or mainland mobile number, and the account key django-axes
counts failures under.

django-axes stores that key in ``axes_accessattempt.username``. A person may type a mobile or
ID number into the login form, so the key is a keyed hash (blind index, ``PII_INDEX_KEY``) of
the account's username, never the typed value: lockout still works per account, and the axes
tables hold no phone or ID number in clear (``AXES_SENSITIVE_PARAMETERS`` masks the typed
username in ``post_data``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from apps.identity import principal
from apps.identity.models import Person
from apps.identity.pii import blind_index, phone_index
from apps.identity.validators import clean_phone


def username_for_login(value: str) -> str:
    """The username behind ``value``: the account holding that mobile number when ``value`` is
    one, else ``value`` itself (usernames are never bare mobile numbers, see forms)."""
    value = (value or "").strip()
    try:
        phone = clean_phone(value)
    except ValidationError:
        return value
    username = (
        Person.objects.filter(phone_index=phone_index(phone))
        .values_list("user__username", flat=True)
        .first()
    )
    return username or phone


class UsernameOrPhoneBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        return super().authenticate(
            request, username=username_for_login(username), password=password
        )

    def get_user(self, user_id: Any) -> Any:
        """The session's account, from the cache when it has not changed (``principal``)."""
        return principal.load_user(user_id, super().get_user)


def login_key(value: str) -> str:
    """The opaque key failures of the account behind ``value`` (username or mobile number) are
    counted under: ``login:`` + a keyed HMAC of the username. Also what an operator passes to
    ``manage.py axes_reset_username`` (see ``manage.py unlock_login``)."""
    return "login:" + blind_index(username_for_login(value), purpose="login")[:40]


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """AXES_USERNAME_CALLABLE: failures by phone and by username count for the same account,
    under a keyed hash (``login_key``) rather than the typed value."""
    value = ""
    if credentials:
        value = credentials.get("username") or ""
    elif request is not None and request.method == "POST":
        value = request.POST.get("username", "")
    return login_key(str(value))
