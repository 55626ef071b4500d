"""External public values for the draw (DOMAIN.md §6.4): a value published by someone outside
the platform *after* registration closes, so that neither the platform (which knows the server
seed and writes the audit chain) nor anyone else could know it when the list was frozen.

``MARKETPLACE_PUBLIC_BEACON`` names a callable ``(after: datetime) -> (value, source) | None``:
the first value published at or after ``after``, and where anyone can fetch it again (a URL).
``None`` means "not available yet"; the selection then waits up to
``MARKETPLACE_BEACON_WAIT_MINUTES`` (beat retries every minute) and then draws without it,
recording why. Empty setting: no external value (the audit chain head alone).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.utils.module_loading import import_string

NIST_NEXT_PULSE = "https://beacon.nist.gov/beacon/2.0/pulse/time/next/{ms}"


def configured() -> Callable[[datetime], tuple[str, str] | None] | None:
    path = getattr(settings, "MARKETPLACE_PUBLIC_BEACON", "")
    return import_string(path) if path else None


def nist_pulse_after(after: datetime) -> tuple[str, str] | None:
    """The NIST Randomness Beacon 2.0 pulse following ``after`` (512 bits, every minute,
    signed and hash-chained by NIST); its URI lets anyone fetch the same pulse again."""
    url = NIST_NEXT_PULSE.format(ms=int(after.timestamp() * 1000))
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - fixed https URL
            pulse = json.loads(response.read().decode("utf-8"))["pulse"]
    except (OSError, ValueError, KeyError):
        return None
    return str(pulse["outputValue"]), str(pulse.get("uri") or url)
