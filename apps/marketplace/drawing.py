"""The auditable random draw (DOMAIN.md §6.4), standard library only.

This module is the platform's implementation; ``scripts/recompute_draw.py`` is a stand-alone copy
of the same algorithm that anyone can run on a draw's published JSON. Both must stay
byte-for-byte equivalent in behaviour: tests/marketplace/test_drawing.py runs the script as a
separate process over 1,000 random draws and compares.

Algorithm ``gp-draw-v1``:

* ``commitment = sha256("gp-draw-v1|" + server_seed)`` is published before registration closes.
* The frozen list is the eligible registrants' USCCs sorted ascending (plain code-point order,
  so the result never depends on locale); ``list_hash = sha256("\\n".join(usccs))``.
* ``draw_seed = sha256("gp-draw-v1|" + server_seed + "|" + list_hash + "|" + owner_nonce + "|" +
  public_value)`` (all UTF-8).
* A byte stream ``sha256(draw_seed || counter as 8 bytes big-endian)`` for counter = 0, 1, …
  feeds unbiased integers by rejection sampling, which drive a Fisher–Yates shuffle of the list.
  The first ``picks`` entries of the shuffled list are the result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

ALGORITHM_VERSION = "gp-draw-v1"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seed_commitment(server_seed: str, version: str = ALGORITHM_VERSION) -> str:
    return sha256_hex(f"{version}|{server_seed}")


def canonical_list(usccs: Sequence[str]) -> list[str]:
    """The frozen order: sorted by code point, duplicates refused."""
    ordered = sorted(usccs)
    if len(set(ordered)) != len(ordered):
        raise ValueError("duplicate registrant in draw list")
    return ordered


def list_hash(usccs: Sequence[str]) -> str:
    return sha256_hex("\n".join(usccs))


def draw_seed(
    *,
    server_seed: str,
    list_digest: str,
    owner_nonce: str,
    public_value: str,
    version: str = ALGORITHM_VERSION,
) -> bytes:
    text = f"{version}|{server_seed}|{list_digest}|{owner_nonce}|{public_value}"
    return hashlib.sha256(text.encode("utf-8")).digest()


def _blocks(seed: bytes) -> Iterator[int]:
    counter = 0
    while True:
        block = hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        for offset in range(0, 32, 8):
            yield int.from_bytes(block[offset : offset + 8], "big")
        counter += 1


def _below(stream: Iterator[int], bound: int) -> int:
    """An unbiased integer in [0, bound) (rejection sampling over 64-bit words)."""
    limit = (2**64 // bound) * bound
    for word in stream:
        if word < limit:
            return word % bound
    raise AssertionError("unreachable")  # pragma: no cover


def shuffled(entries: Sequence[str], seed: bytes) -> list[str]:
    items = list(entries)
    stream = _blocks(seed)
    for i in range(len(items) - 1, 0, -1):
        j = _below(stream, i + 1)
        items[i], items[j] = items[j], items[i]
    return items


def combined_public_value(public_value: str, external_value: str = "") -> str:
    """The public-value part of the seed: the value frozen at the close, followed by
    ``|external_value`` when a value from outside the platform was mixed in."""
    return f"{public_value}|{external_value}" if external_value else public_value


def run_draw(
    *,
    server_seed: str,
    usccs: Sequence[str],
    owner_nonce: str,
    public_value: str,
    picks: int,
    version: str = ALGORITHM_VERSION,
) -> list[str]:
    """The pure draw: same inputs, same result, on any machine."""
    if version != ALGORITHM_VERSION:
        raise ValueError(f"unknown algorithm {version}")
    ordered = canonical_list(usccs)
    seed = draw_seed(
        server_seed=server_seed,
        list_digest=list_hash(ordered),
        owner_nonce=owner_nonce,
        public_value=public_value,
        version=version,
    )
    return shuffled(ordered, seed)[: max(0, min(picks, len(ordered)))]


def verify_published(document: dict) -> list[str]:
    """Problems found when recomputing a published draw document (empty = it checks out)."""
    problems: list[str] = []
    version = document.get("algorithm_version")
    if version != ALGORITHM_VERSION:
        return [f"unknown algorithm {version!r}"]
    usccs = [entry["uscc"] for entry in document["registrants"]]
    if usccs != sorted(usccs):
        problems.append("registrant list is not in the frozen (sorted) order")
    if list_hash(usccs) != document["list_hash"]:
        problems.append("registrant list does not match the published list hash")
    seed = document.get("server_seed") or ""
    if seed_commitment(seed, version) != document["seed_commitment"]:
        problems.append("server seed does not match the commitment published before closing")
    try:
        result = run_draw(
            server_seed=seed,
            usccs=usccs,
            owner_nonce=document.get("owner_nonce", ""),
            public_value=combined_public_value(
                document["public_value"], document.get("external_value") or ""
            ),
            picks=int(document["picks"]),
            version=version,
        )
    except ValueError as exc:
        return [*problems, str(exc)]
    if result != list(document.get("result") or []):
        problems.append("recomputed result differs from the published result")
    return problems
