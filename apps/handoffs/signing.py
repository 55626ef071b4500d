"""The push signature scheme, sender side (documented for departments in docs/handoffs.md).

    signed message = ASCII decimal Unix timestamp + "." + raw request body bytes
    signature      = lowercase hex HMAC-SHA256(key secret as UTF-8, signed message)
    X-Govportal-Timestamp: <timestamp>
    X-Govportal-Key-Id:    <id of the newest active key>
    X-Govportal-Signature: <key id>=<hex>[, <key id>=<hex> ...]   one per active key, newest first

The body carries a fresh ``delivery_id`` per attempt, so every attempt has a different
signature and a receiver can refuse an exact replay without refusing a retry.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

TIMESTAMP_HEADER = "X-Govportal-Timestamp"
KEY_ID_HEADER = "X-Govportal-Key-Id"
SIGNATURE_HEADER = "X-Govportal-Signature"
HANDOFF_ID_HEADER = "X-Govportal-Handoff-Id"
IDEMPOTENCY_HEADER = "X-Govportal-Idempotency-Key"
DELIVERY_ID_HEADER = "X-Govportal-Delivery-Id"


def signed_message(timestamp: int, body: bytes) -> bytes:
    return str(int(timestamp)).encode("ascii") + b"." + body


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(
        secret.encode("utf-8"), signed_message(timestamp, body), hashlib.sha256
    ).hexdigest()


def signature_header(keys: Sequence[tuple[str, str]], timestamp: int, body: bytes) -> str:
    """``keys`` are ``(key_id, secret)`` pairs, newest first."""
    return ", ".join(f"{key_id}={sign(secret, timestamp, body)}" for key_id, secret in keys)
