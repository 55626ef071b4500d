"""The receiver's verifier (apps/handoffs/verify.py) against what the portal's sender produces.

The sender side is ``apps.handoffs.signing``; the verifier is the self-contained module a
department copies. Each refusal case is built from a request the sender really signed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from apps.handoffs import signing
from apps.handoffs.verify import ReplayCache, SignatureError, Verifier, compute_signature

OLD = ("k2025", "old-secret-0123456789abcdef0123456789")
NEW = ("k2026", "new-secret-fedcba9876543210fedcba9876")
NOW = 1_800_000_000


def _signed(keys, *, body: bytes | None = None, timestamp: int = NOW) -> tuple[dict, bytes]:
    """Headers and body exactly as the portal sends them (``keys`` newest first)."""
    body = body if body is not None else json.dumps({"delivery_id": "d-1", "n": 1}).encode()
    headers = {
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.KEY_ID_HEADER: keys[0][0],
        signing.SIGNATURE_HEADER: signing.signature_header(keys, timestamp, body),
    }
    return headers, body


def test_sender_and_verifier_compute_the_same_signature() -> None:
    # given a body and a timestamp
    body = '{"中文":"办件"}'.encode()
    # when both sides sign it
    # then the signatures agree byte for byte (two implementations of one documented scheme)
    assert compute_signature(NEW[1], NOW, body) == signing.sign(NEW[1], NOW, body)


def test_valid_push_is_accepted_and_names_the_key() -> None:
    # given a push signed with the current key
    headers, body = _signed([NEW])
    # when the department verifies it
    key_id = Verifier(dict([NEW])).verify(headers, body, now=NOW + 5)
    # then it is accepted with that key
    assert key_id == "k2026"


def test_header_names_are_case_insensitive() -> None:
    # given a push whose headers were lower-cased by a proxy
    headers, body = _signed([NEW])
    lowered = {name.lower(): value for name, value in headers.items()}
    # then it still verifies
    assert Verifier(dict([NEW])).verify(lowered, body, now=NOW) == "k2026"


@pytest.mark.parametrize(
    ("_case", "mutate", "code"),
    [
        ("tampered body", lambda h, b: (h, b.replace(b'"n": 1', b'"n": 2')), "bad_signature"),
        ("appended byte", lambda h, b: (h, b + b" "), "bad_signature"),
        (
            "timestamp changed after signing",
            lambda h, b: ({**h, signing.TIMESTAMP_HEADER: str(NOW + 1)}, b),
            "bad_signature",
        ),
        (
            "signature header missing",
            lambda h, b: ({k: v for k, v in h.items() if k != signing.SIGNATURE_HEADER}, b),
            "missing_header",
        ),
        (
            "timestamp not a number",
            lambda h, b: ({**h, signing.TIMESTAMP_HEADER: "1.8e9"}, b),
            "bad_timestamp",
        ),
        (
            "garbage signature",
            lambda h, b: ({**h, signing.SIGNATURE_HEADER: "k2026=zz, nonsense"}, b),
            "bad_signature",
        ),
    ],
)
def test_tampered_requests_are_refused(_case, mutate, code) -> None:
    # given a valid push, altered in transit
    headers, body = mutate(*_signed([NEW]))
    # when verified
    with pytest.raises(SignatureError) as error:
        Verifier(dict([NEW])).verify(headers, body, now=NOW)
    # then it is refused with the reason
    assert error.value.code == code


def test_wrong_key_is_refused() -> None:
    # given a push signed with a key the department does not hold (same key id, other secret)
    headers, body = _signed([("k2026", "an-attackers-guess-0000000000000000")])
    # when verified
    with pytest.raises(SignatureError) as error:
        Verifier(dict([NEW])).verify(headers, body, now=NOW)
    # then refused
    assert error.value.code == "bad_signature"


def test_unknown_key_id_is_refused() -> None:
    # given a push signed only with a key id the department never installed
    headers, body = _signed([("k1999", NEW[1])])
    with pytest.raises(SignatureError) as error:
        Verifier(dict([NEW])).verify(headers, body, now=NOW)
    assert error.value.code == "bad_signature"


@pytest.mark.parametrize(
    ("_case", "skew", "accepted"),
    [
        ("just inside the window", 300, True),
        ("one second too old", 301, False),
        ("an hour old", 3600, False),
        ("from the future beyond the window", -301, False),
    ],
)
def test_old_timestamp_is_refused(_case, skew, accepted) -> None:
    # given a push signed at NOW, verified ``skew`` seconds later with a 300 s window
    headers, body = _signed([NEW])
    verifier = Verifier(dict([NEW]), window_seconds=300)
    # when verified
    outcome = "accepted"
    try:
        verifier.verify(headers, body, now=NOW + skew)
    except SignatureError as exc:
        outcome = exc.code
    # then only a timestamp within the window passes
    assert outcome == ("accepted" if accepted else "stale_timestamp")


def test_replay_within_the_window_is_refused() -> None:
    # given a push accepted once
    headers, body = _signed([NEW])
    verifier = Verifier(dict([NEW]))
    verifier.verify(headers, body, now=NOW)
    # when the very same request (nonce = its delivery_id, same signature) arrives again
    with pytest.raises(SignatureError) as error:
        verifier.verify(dict(headers), bytes(body), now=NOW + 10)
    # then it is refused as a replay
    assert error.value.code == "replayed"


def test_retry_with_a_new_delivery_id_is_not_a_replay() -> None:
    # given a push accepted once
    verifier = Verifier(dict([NEW]))
    verifier.verify(*_signed([NEW]), now=NOW)
    # when the portal retries (fresh delivery_id in the body, same second)
    retry = _signed([NEW], body=json.dumps({"delivery_id": "d-2", "n": 1}).encode())
    # then it is accepted: only exact copies are replays
    assert verifier.verify(*retry, now=NOW) == "k2026"


def test_replayed_copy_after_the_window_is_refused_as_stale() -> None:
    # given a push accepted once, its replay-cache entry expired
    headers, body = _signed([NEW])
    cache = ReplayCache()
    Verifier(dict([NEW]), replay_cache=cache).verify(headers, body, now=NOW)
    # when the copy comes back after the window
    with pytest.raises(SignatureError) as error:
        Verifier(dict([NEW]), replay_cache=cache).verify(headers, body, now=NOW + 400)
    # then the timestamp check refuses it
    assert error.value.code == "stale_timestamp"


def test_rotation_receiver_with_either_key_accepts_while_both_are_active() -> None:
    # given the portal mid-rotation: signs with the new and the old key
    headers, body = _signed([NEW, OLD])
    # when a department that already installed the new key, and one still on the old key, verify
    with_new = Verifier(dict([NEW])).verify(headers, body, now=NOW)
    with_old = Verifier(dict([OLD])).verify(headers, body, now=NOW)
    # then both accept, each with the key it holds
    assert (with_new, with_old) == ("k2026", "k2025")


def test_rotation_after_old_key_retired_refuses_old_only_receivers() -> None:
    # given the old key deactivated on the portal: pushes carry the new signature only
    headers, body = _signed([NEW])
    # when a receiver still holding only the old key verifies
    with pytest.raises(SignatureError) as error:
        Verifier(dict([OLD])).verify(headers, body, now=NOW)
    # then it is refused, and a receiver holding both keys accepts
    assert error.value.code == "bad_signature"
    assert Verifier(dict([OLD, NEW])).verify(headers, body, now=NOW) == "k2026"


def test_replay_cache_forgets_after_expiry() -> None:
    # given a remembered token
    cache = ReplayCache()
    now = time.time()
    assert cache.remember("t", expires_at=now + 1, now=now) is True
    # then it is refused until expiry and accepted again after
    assert cache.remember("t", expires_at=now + 1, now=now + 0.5) is False
    assert cache.remember("t", expires_at=now + 20, now=now + 11) is True


def test_documented_example() -> None:
    # given the example in docs/handoffs.md "Reproduce it"
    body = b'{"event":"case.accepted","handoff_id":42}'
    expected = "6ce6d5f14c6b10aa451a711d17c88f6c0122c05829f0ee668d8a09de91a54d1e"
    # then sender and verifier both produce the documented signature
    assert signing.sign("demo-secret-please-rotate", 1767225600, body) == expected
    headers = {signing.TIMESTAMP_HEADER: "1767225600", signing.SIGNATURE_HEADER: f"k1={expected}"}
    verifier = Verifier({"k1": "demo-secret-please-rotate"})
    assert verifier.verify(headers, body, now=1767225600) == "k1"
    doc = (Path(__file__).resolve().parents[2] / "docs" / "handoffs.md").read_text()
    assert expected in doc


@pytest.mark.parametrize(
    ("_case", "stated", "skew", "outcome"),
    [
        ("stated 60 s, 59 s old", 60, 59, "accepted"),
        ("stated 60 s, 61 s old", 60, 61, "stale_timestamp"),
        ("stated wider than the receiver's: ignored", 3600, 301, "stale_timestamp"),
        ("nothing stated: the receiver's own window", None, 300, "accepted"),
    ],
)
def test_the_endpoints_replay_window_stated_in_the_signed_body_only_tightens(
    _case, stated, skew, outcome
) -> None:
    # given a push whose signed body states the endpoint's replay window
    envelope = {"delivery_id": "d-1", "replay_window_seconds": stated}
    headers, body = _signed([NEW], body=json.dumps(envelope).encode())
    # when a receiver with a 300 s window verifies it ``skew`` seconds later
    try:
        Verifier(dict([NEW]), window_seconds=300).verify(headers, body, now=NOW + skew)
        result = "accepted"
    except SignatureError as exc:
        result = exc.code
    # then the stricter of the two windows applies
    assert result == outcome


def test_a_tampered_stated_window_breaks_the_signature() -> None:
    # an attacker cannot widen (or remove) the stated window: it is inside the signed body
    headers, body = _signed([NEW], body=b'{"delivery_id":"d-1","replay_window_seconds":30}')
    tampered = body.replace(b"30", b"99")
    with pytest.raises(SignatureError) as error:
        Verifier(dict([NEW])).verify(headers, tampered, now=NOW)
    assert error.value.code == "bad_signature"
