"""SMS through a pluggable backend (STYLE.md C3: one ``SMS_BACKEND`` switch).

``settings.SMS_BACKEND`` names a class with ``send_messages(messages)``:

- ``ConsoleSmsBackend`` (development default) writes each message to stdout, phone masked;
- ``LocmemSmsBackend`` (tests) appends to ``apps.notifications.sms.outbox``, which a test (or a
  browser test's live server, which runs in the test process) reads the text back from.

A real gateway backend is a class with the same method. Callers send from
``transaction.on_commit`` so nothing leaves before the change that caused it is committed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str


class SmsBackend(Protocol):
    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        """Send ``messages``; return how many were accepted by the gateway."""
        ...


def _mask(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "*" * len(phone)


class ConsoleSmsBackend:
    """Development: print the message (the phone number masked) instead of sending it."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        for message in messages:
            sys.stdout.write(f"[SMS to {_mask(message.to)}] {message.text}\n")
        sys.stdout.flush()
        return len(messages)


# The test outbox: every message the locmem backend "sent", oldest first.
outbox: list[SmsMessage] = []


class LocmemSmsBackend:
    """Tests: keep messages in ``outbox``."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        outbox.extend(messages)
        return len(messages)


def get_backend() -> SmsBackend:
    backend_class = import_string(settings.SMS_BACKEND)
    return backend_class()


def send_sms(*, to: str, text: str) -> None:
    """Send one text message through the configured backend."""
    get_backend().send_messages([SmsMessage(to=to, text=text)])
    logger.info("notifications.sms_sent", extra={"backend": settings.SMS_BACKEND})
