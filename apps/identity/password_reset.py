"""忘记密码: a new password through an SMS code sent to the account's registered mobile.

No account enumeration: asking for a code answers the same whether or not the number belongs
to an account. A code is recorded either way (so the per-number resend and hourly limits hold
alike) but an SMS leaves only for a registered number. Setting the password needs the newest
code of that number (expiry, attempts and single use as for registration,
``services.accounts._consume_phone_code``); a number without an account can never match, and is
refused with the same words as a wrong code.

On success every session and SSO token of the account ends (``services.end_all_sessions``),
a django-axes login lockout of the account is lifted (whoever proves the mobile may sign in
again with the new password at once, rather than wait out the cool-off) and the change is
audited (``identity.password_reset``, with how many recorded login failures were cleared).
"""

from __future__ import annotations

import logging

from axes.utils import reset as axes_reset

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.identity import services
from apps.identity.backends import login_key
from apps.identity.constants import PhoneCodePurpose
from apps.identity.models import Person, User
from apps.identity.pii import phone_index
from apps.identity.services._common import _clean_phone
from apps.identity.services.accounts import _consume_phone_code

logger = logging.getLogger(__name__)


def _account_for(index: str) -> User | None:
    person = (
        Person.objects.select_related("user")
        .filter(phone_index=index, user__isnull=False, user__is_active=True)
        .first()
    )
    return person.user if person is not None else None


def request_reset_code(*, phone: str) -> None:
    """Send a reset code to ``phone`` if it is an account's registered mobile; otherwise do
    everything the same except the SMS. ``DomainError`` only for an invalid number or the
    rate limits, which apply to every number alike."""
    phone = _clean_phone(phone)
    registered = _account_for(phone_index(phone)) is not None
    services.send_phone_code(
        phone=phone, purpose=PhoneCodePurpose.RESET_PASSWORD, deliver=registered
    )


def reset_password(*, phone: str, code: str, password: str) -> User:
    """Set ``password`` on the account of ``phone`` when ``code`` is its newest reset code.

    Refused with ``DomainError`` (code ``invalid_phone_code``) for a wrong, expired or used
    code — the attempt is still counted — and (``invalid_password``) for a password the
    validators refuse, which leaves the code unused.
    """
    phone = _clean_phone(phone)
    index = phone_index(phone)
    refusal: str | None
    with transaction.atomic(durable=True):
        user = _account_for(index)
        if user is not None:
            try:
                password_validation.validate_password(password, user)
            except ValidationError as exc:
                raise DomainError(" ".join(exc.messages), code="invalid_password") from exc
        refusal = _consume_phone_code(index, PhoneCodePurpose.RESET_PASSWORD, code)
        if refusal is None and user is None:
            # Cannot happen through the page (no code was sent); answer like a wrong code.
            refusal = _("验证码不正确")
        if refusal is None:
            locked = User.objects.select_for_update().get(pk=user.pk)
            locked.set_password(password)
            locked.save(update_fields=["password"])
            # Failures are counted under the account's opaque key whatever was typed
            # (username or mobile), so one reset by that key lifts the lock.
            cleared = axes_reset(username=login_key(locked.username))
            record_audit_event(
                actor=locked,
                action="identity.password_reset",
                obj=locked,
                data={"via": "sms", "login_failures_cleared": cleared},
            )
    if refusal is not None:
        raise DomainError(refusal, code="invalid_phone_code")
    services.end_all_sessions(user=locked)
    logger.info("identity.password_reset", extra={"user_id": locked.pk})
    return locked
