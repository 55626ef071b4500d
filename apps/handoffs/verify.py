"""Receiver side of the push signature scheme: what a department's system implements.

This module is deliberately self-contained (Python standard library only, no Django, no import
from the rest of govportal) so a department engineer can copy it as it is. The department
simulator (``manage.py department_simulator``) verifies every push with it. The scheme is
documented in docs/handoffs.md:

    signed message = ASCII decimal Unix timestamp + "." + raw request body bytes
    signature      = lowercase hex HMAC-SHA256(key secret as UTF-8, signed message)
    X-Govportal-Timestamp: <timestamp>
    X-Govportal-Signature: <key id>=<hex>[, <key id>=<hex> ...]   one per active key

A request is accepted when

1. both headers are present and the timestamp is a decimal integer,
2. the timestamp is within ``window_seconds`` of the receiver's clock (either direction),
3. at least one ``key id=signature`` pair names a key the receiver holds and matches
   (constant-time comparison) — this is what makes key rotation seamless: during a rotation the
   portal signs with the old and the new key, so a receiver holding either accepts, and
4. that exact signature has not been accepted before within the window (replay). The body
   carries a fresh ``delivery_id`` per attempt, so a legitimate retry always has a new signature;
   only a copy of an earlier request is refused.

The portal also states the department endpoint's configured replay window in the signed body
(``replay_window_seconds``). After the signature matched, a window stated there that is
*shorter* than the receiver's own is applied too: the sender can only tighten the window,
never widen it (an unsigned header could not be trusted for this).

Effectively-once processing is a separate, business-level step: the envelope's
``idempotency_key`` is the same for every attempt of one handoff, and the receiver stores it
before acknowledging (see docs/handoffs.md, "Idempotency").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Govportal-Timestamp"
SIGNATURE_HEADER = "X-Govportal-Signature"
DEFAULT_WINDOW_SECONDS = 300


class SignatureError(Exception):
    """The request must be refused (answer 401). ``code`` says why, for logs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def parse_signature_header(value: str) -> list[tuple[str, str]]:
    """``"k2=abc, k1=def"`` → ``[("k2", "abc"), ("k1", "def")]``; malformed parts are skipped."""
    pairs = []
    for part in value.split(","):
        key_id, sep, signature = part.strip().partition("=")
        if sep and key_id and signature:
            pairs.append((key_id.strip(), signature.strip().lower()))
    return pairs


class ReplayCache:
    """Signatures accepted within the window, in memory, thread-safe.

    A single-process receiver needs nothing more; several receiver processes would share this
    through their database or Redis (``SET key 1 NX EX window``).
    """

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._next_prune = 0.0

    def remember(self, token: str, *, expires_at: float, now: float) -> bool:
        """Store ``token``; ``False`` when it was already there and has not expired."""
        with self._lock:
            if now >= self._next_prune:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
                self._next_prune = now + 10
            if self._seen.get(token, 0.0) > now:
                return False
            self._seen[token] = expires_at
            return True

    def __len__(self) -> int:
        return len(self._seen)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def _stated_window(body: bytes) -> int | None:
    """``replay_window_seconds`` of a JSON body (signed: only read after the signature)."""
    try:
        value = json.loads(body).get("replay_window_seconds")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and value > 0 else None


class Verifier:
    """Verifies pushes against the keys the receiver holds (``{key_id: secret}``)."""

    def __init__(
        self,
        keys: Mapping[str, str],
        *,
        window_seconds: int = DEFAULT_WINDOW_SECONDS,
        replay_cache: ReplayCache | None = None,
    ) -> None:
        if not keys:
            raise ValueError("a verifier needs at least one key")
        self.keys = dict(keys)
        self.window_seconds = window_seconds
        self.replay_cache = replay_cache if replay_cache is not None else ReplayCache()

    def verify(self, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> str:
        """Return the id of the key that verified the request, or raise ``SignatureError``."""
        now = time.time() if now is None else now
        raw_timestamp = _header(headers, TIMESTAMP_HEADER)
        raw_signatures = _header(headers, SIGNATURE_HEADER)
        if not raw_timestamp or not raw_signatures:
            raise SignatureError("missing_header", "signature or timestamp header missing")
        if not raw_timestamp.strip().isdigit():
            raise SignatureError("bad_timestamp", "timestamp is not a decimal integer")
        timestamp = int(raw_timestamp.strip())
        if abs(now - timestamp) > self.window_seconds:
            raise SignatureError("stale_timestamp", "timestamp outside the replay window")
        for key_id, signature in parse_signature_header(raw_signatures):
            secret = self.keys.get(key_id)
            if secret is None:
                continue
            expected = compute_signature(secret, timestamp, body)
            if hmac.compare_digest(expected, signature):
                stated = _stated_window(body)
                window = min(stated, self.window_seconds) if stated else self.window_seconds
                if abs(now - timestamp) > window:
                    raise SignatureError(
                        "stale_timestamp", "timestamp outside the sender's replay window"
                    )
                # Remember until the timestamp leaves the window: after that the timestamp
                # check refuses a copy anyway.
                expires_at = timestamp + self.window_seconds + 1
                if not self.replay_cache.remember(
                    f"{timestamp}:{signature}", expires_at=expires_at, now=now
                ):
                    raise SignatureError("replayed", "this request was already accepted")
                return key_id
        raise SignatureError("bad_signature", "no signature matches a key held by the receiver")
