"""SMS through a pluggable backend (STYLE.md C3: one ``SMS_BACKEND`` switch).

``settings.SMS_BACKEND`` names a class with ``send_messages(messages)``:

- ``ConsoleSmsBackend`` (development default) writes each message to stdout, phone masked;
- ``DemoSmsBackend`` (``make demo``) appends every message to ``SMS_LOG_FILE`` (var/demo-sms.log)
  and prints only verification codes on the console, which the person trying the demo needs
  to register or reset a password; case notices would otherwise print a line on every event;
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


# What a message is, for backends that treat them differently (``DemoSmsBackend``).
NOTICE = "notice"
CODE = "code"  # a verification code the person must type somewhere


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str
    kind: str = NOTICE


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


class DemoSmsBackend:
    """The demo: every message to ``settings.SMS_LOG_FILE`` (phone masked), verification codes
    also to stdout. Several processes (web workers, the Celery worker) append to one file;
    each message is one line written in one call."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        path = getattr(settings, "SMS_LOG_FILE", "")
        lines = [f"[SMS to {_mask(m.to)}] {m.text}\n" for m in messages]
        if path:
            with open(path, "a", encoding="utf-8") as log:
                for line in lines:
                    log.write(line)
        codes = [line for m, line in zip(messages, lines, strict=True) if m.kind == CODE]
        if codes or not path:
            sys.stdout.write("".join(codes if path else lines))
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


def send_sms(*, to: str, text: str, kind: str = NOTICE) -> None:
    """Send one text message through the configured backend; ``kind`` is ``CODE`` for a
    verification code."""
    get_backend().send_messages([SmsMessage(to=to, text=text, kind=kind)])
    logger.info("notifications.sms_sent", extra={"backend": settings.SMS_BACKEND})
