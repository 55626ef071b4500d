"""Password login by username or mainland mobile number, and the account key django-axes
counts failures under."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from apps.identity.models import Person
from apps.identity.pii import phone_index
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


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """AXES_USERNAME_CALLABLE: failures by phone and by username count for the same account."""
    value = ""
    if credentials:
        value = credentials.get("username") or ""
    elif request is not None and request.method == "POST":
        value = request.POST.get("username", "")
    return username_for_login(str(value))
