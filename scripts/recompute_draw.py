#!/usr/bin/env python3
"""Recompute a 中介超市 random draw from its published JSON (standard library only).

Usage: python scripts/recompute_draw.py FILE_OR_URL

FILE_OR_URL is a draw document as published at /marketplace/draws/<id>.json (or a JSON list of
such documents). For each document the script checks the seed against the commitment published
before registration closed, the registrant list against its hash, recomputes the draw and
compares it with the published result. It prints one JSON line per document
({"id", "result", "ok", "problems"}) and exits 1 if any document does not check out.

The algorithm (gp-draw-v1) is described in apps/marketplace/drawing.py; this file is a
deliberately independent copy so that it can be read and run without the platform's code.
"""

import hashlib
import json
import sys
import urllib.request

VERSION = "gp-draw-v1"


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def words(seed):
    counter = 0
    while True:
        block = hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        for offset in range(0, 32, 8):
            yield int.from_bytes(block[offset : offset + 8], "big")
        counter += 1


def below(stream, bound):
    limit = (2**64 // bound) * bound
    for word in stream:
        if word < limit:
            return word % bound
    return None


def recompute(doc):
    problems = []
    if doc.get("algorithm_version") != VERSION:
        return None, ["unknown algorithm " + repr(doc.get("algorithm_version"))]
    usccs = [entry["uscc"] for entry in doc["registrants"]]
    if usccs != sorted(usccs):
        problems.append("registrant list is not in the frozen (sorted) order")
    if len(set(usccs)) != len(usccs):
        problems.append("duplicate registrant in draw list")
    digest = sha256_hex("\n".join(usccs))
    if digest != doc["list_hash"]:
        problems.append("registrant list does not match the published list hash")
    seed_text = doc.get("server_seed") or ""
    if sha256_hex(VERSION + "|" + seed_text) != doc["seed_commitment"]:
        problems.append("server seed does not match the commitment published before closing")
    ordered = sorted(usccs)
    text = "|".join(
        [
            VERSION,
            seed_text,
            sha256_hex("\n".join(ordered)),
            doc.get("owner_nonce", ""),
            doc["public_value"],
        ]
    )
    if doc.get("external_value"):
        # A value published outside the platform after the close, mixed in after the frozen one.
        text += "|" + doc["external_value"]
    seed = hashlib.sha256(text.encode("utf-8")).digest()
    items = list(ordered)
    stream = words(seed)
    for i in range(len(items) - 1, 0, -1):
        j = below(stream, i + 1)
        items[i], items[j] = items[j], items[i]
    picks = max(0, min(int(doc["picks"]), len(items)))
    result = items[:picks]
    if result != list(doc.get("result") or []):
        problems.append("recomputed result differs from the published result")
    return result, problems


def load(source):
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310
            return json.loads(response.read().decode("utf-8"))
    with open(source, encoding="utf-8") as handle:
        return json.load(handle)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: recompute_draw.py FILE_OR_URL\n")
        return 2
    data = load(argv[1])
    documents = data if isinstance(data, list) else [data]
    failed = False
    for doc in documents:
        result, problems = recompute(doc)
        failed = failed or bool(problems)
        line = {"id": doc.get("id"), "result": result, "ok": not problems, "problems": problems}
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
