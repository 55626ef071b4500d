"""The auditable draw: the pure function, the published document and the stand-alone script."""

import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.marketplace import drawing

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "recompute_draw.py"

# USCC-shaped identifiers (18 characters); cheap to generate on a loaded machine.
usccs = st.lists(
    st.integers(0, 10**17).map(lambda n: f"91{n:016d}"[:18]), min_size=2, max_size=40, unique=True
)
values = st.text(max_size=64)
# The machine is shared: generation may be slow, which says nothing about the draw.
relaxed = settings(suppress_health_check=[HealthCheck.too_slow])


def _document(seed, entries, nonce, public, picks, number=1):
    ordered = drawing.canonical_list(entries)
    return {
        "id": number,
        "algorithm_version": drawing.ALGORITHM_VERSION,
        "seed_commitment": drawing.seed_commitment(seed),
        "server_seed": seed,
        "registrants": [{"uscc": u, "name": "机构"} for u in ordered],
        "list_hash": drawing.list_hash(ordered),
        "owner_nonce": nonce,
        "public_value": public,
        "picks": picks,
        "result": drawing.run_draw(
            server_seed=seed, usccs=entries, owner_nonce=nonce, public_value=public, picks=picks
        ),
    }


@relaxed
@given(seed=values, entries=usccs, nonce=values, public=values, picks=st.integers(1, 5))
def test_draw_is_deterministic_and_independent_of_input_order(seed, entries, nonce, public, picks):
    # when
    first = drawing.run_draw(
        server_seed=seed, usccs=entries, owner_nonce=nonce, public_value=public, picks=picks
    )
    again = drawing.run_draw(
        server_seed=seed,
        usccs=list(reversed(entries)),
        owner_nonce=nonce,
        public_value=public,
        picks=picks,
    )
    # then
    assert first == again
    assert len(first) == min(picks, len(entries))
    assert set(first) <= set(entries)


@relaxed
@given(seed=values, entries=usccs, nonce=values, public=values, data=st.data())
def test_changing_any_input_changes_the_seed_and_is_detected(seed, entries, nonce, public, data):
    # given
    document = _document(seed, entries, nonce, public, picks=1)
    base = drawing.draw_seed(
        server_seed=seed,
        list_digest=document["list_hash"],
        owner_nonce=nonce,
        public_value=public,
    )
    field = data.draw(st.sampled_from(["seed", "nonce", "public", "added", "removed"]))
    # when
    tampered = dict(document)
    if field == "seed":
        tampered["server_seed"] = seed + "x"
    elif field == "nonce":
        tampered["owner_nonce"] = nonce + "x"
    elif field == "public":
        tampered["public_value"] = public + "x"
    elif field == "added":
        tampered["registrants"] = sorted(
            [*document["registrants"], {"uscc": "Z" * 18, "name": "后加入"}],
            key=lambda e: e["uscc"],
        )
    else:
        tampered["registrants"] = document["registrants"][1:]
    usccs_after = [e["uscc"] for e in tampered["registrants"]]
    changed = drawing.draw_seed(
        server_seed=tampered["server_seed"],
        list_digest=drawing.list_hash(usccs_after),
        owner_nonce=tampered["owner_nonce"],
        public_value=tampered["public_value"],
    )
    # then: the generator's seed differs, and a list or seed change breaks a published hash
    assert changed != base
    assert drawing.verify_published(document) == []
    if field in ("seed", "added", "removed"):
        assert drawing.verify_published(tampered) != []


def test_reordering_the_published_list_is_detected():
    # given
    document = _document("s", ["B" * 18, "A" * 18, "C" * 18], "n", "p", picks=1)
    # when
    document["registrants"] = list(reversed(document["registrants"]))
    # then
    assert "registrant list is not in the frozen (sorted) order" in drawing.verify_published(
        document
    )


def test_draw_is_roughly_uniform():
    # given: 6,000 draws of one winner among 6
    entries = [f"{i:018d}" for i in range(6)]
    # when
    wins = Counter(
        drawing.run_draw(
            server_seed=f"seed-{n}", usccs=entries, owner_nonce="", public_value="p", picks=1
        )[0]
        for n in range(6000)
    )
    # then: each within ±15 % of the expected 1,000
    assert set(wins) == set(entries)
    assert all(850 <= count <= 1150 for count in wins.values())


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(entries=usccs, public=values)
def test_every_registrant_can_be_drawn_first(entries, public):
    # a permutation, never a selection that skips someone
    shuffled = drawing.shuffled(drawing.canonical_list(entries), b"x" * 32)
    assert sorted(shuffled) == sorted(entries)


def test_standalone_script_agrees_on_1000_random_draws(tmp_path):
    # given: 1,000 random draws computed by the platform
    rng = random.Random(1405)
    documents = []
    for number in range(1000):
        size = rng.randint(2, 30)
        entries = [f"9136{rng.randrange(10**14):014d}" for _ in range(size)]
        entries = list(dict.fromkeys(entries))
        documents.append(
            _document(
                f"{rng.getrandbits(256):064x}",
                entries,
                rng.choice(["", "业主随机数", str(rng.random())]),
                f"{rng.getrandbits(256):064x}",
                picks=rng.randint(1, 4),
                number=number,
            )
        )
    source = tmp_path / "draws.json"
    source.write_text(json.dumps(documents, ensure_ascii=False), encoding="utf-8")
    # when: the script runs as its own process, under another locale and time zone
    env = {**os.environ, "LC_ALL": "C", "TZ": "America/Los_Angeles", "PYTHONHASHSEED": "7"}
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), str(source)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    # then
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr
    lines = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [line["result"] for line in lines] == [d["result"] for d in documents]
    assert all(line["ok"] for line in lines)


def test_standalone_script_detects_a_tampered_document(tmp_path):
    # given
    document = _document("seed", ["A" * 18, "B" * 18, "C" * 18], "n", "p", picks=1)
    document["registrants"] = document["registrants"][:2]  # one removed after the freeze
    source = tmp_path / "draw.json"
    source.write_text(json.dumps(document), encoding="utf-8")
    # when
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), str(source)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    # then
    assert completed.returncode == 1
    assert "does not match the published list hash" in completed.stdout
