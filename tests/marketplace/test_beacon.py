"""An external public value mixed into the draw: published after the close, recorded, and
recomputed by the stand-alone script; the selection waits for it, then goes on without it."""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from django.urls import reverse

from apps.marketplace import drawing
from apps.marketplace.constants import ProjectStatus
from apps.marketplace.services import close_registration, register_for_project, run_selection
from tests.marketplace.factories import listed_agency, published_project

pytestmark = pytest.mark.django_db

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "recompute_draw.py"
PULSE = "A" * 128
CALLS: list = []


def fake_beacon(after):
    CALLS.append(after)
    return PULSE, "https://beacon.example/pulse/1"


def silent_beacon(after):
    return None


def _frozen(service, registrants=6):
    project = published_project(service)
    for _ in range(registrants):
        agency = listed_agency(service)
        register_for_project(
            user=agency.enterprise.legal_representative, project_id=project.pk, agency_id=agency.pk
        )
    with time_machine.travel(project.registration_closes_at, tick=False):
        close_registration(project_id=project.pk)
    return project


def _script(tmp_path, document):
    source = tmp_path / "draw.json"
    source.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), str(source)], capture_output=True, text=True, check=False
    )
    return completed.returncode, json.loads(completed.stdout)


def test_external_value_is_mixed_in_published_and_recomputed(client, service, settings, tmp_path):
    settings.MARKETPLACE_PUBLIC_BEACON = "tests.marketplace.test_beacon.fake_beacon"
    CALLS.clear()
    project = _frozen(service)
    # when
    with time_machine.travel(project.selection_at, tick=False):
        run_selection(project_id=project.pk)
    project.refresh_from_db()
    document = client.get(reverse("marketplace:draw_json", args=[project.draw.pk])).json()
    code, line = _script(tmp_path, document)
    # and the external value is changed to one that gives another result
    usccs = [e["uscc"] for e in document["registrants"]]
    other = next(
        candidate
        for candidate in (f"{n:0128X}" for n in range(1, 50))
        if drawing.run_draw(
            server_seed=document["server_seed"],
            usccs=usccs,
            owner_nonce=document["owner_nonce"],
            public_value=drawing.combined_public_value(document["public_value"], candidate),
            picks=1,
        )
        != document["result"]
    )
    tampered_code, tampered = _script(tmp_path, {**document, "external_value": other})
    page = client.get(reverse("marketplace:draw", args=[project.draw.pk])).content.decode()
    # then
    assert project.status == ProjectStatus.AWARDED
    assert [project.draw.frozen_at] == CALLS  # a value published after the list was frozen
    assert (document["external_value"], document["external_source"]) == (
        PULSE,
        "https://beacon.example/pulse/1",
    )
    assert (code, line["result"]) == (0, [project.winner.uscc])
    assert tampered_code == 1
    assert "recomputed result differs from the published result" in tampered["problems"]
    assert PULSE in page


def test_selection_waits_for_the_external_value_then_goes_on_without_it(service, settings):
    settings.MARKETPLACE_PUBLIC_BEACON = "tests.marketplace.test_beacon.silent_beacon"
    settings.MARKETPLACE_BEACON_WAIT_MINUTES = 30
    project = _frozen(service, registrants=3)
    with time_machine.travel(project.selection_at + timedelta(minutes=29), tick=False):
        waiting = run_selection(project_id=project.pk)
    with time_machine.travel(project.selection_at + timedelta(minutes=30), tick=False):
        drawn = run_selection(project_id=project.pk)
    project.refresh_from_db()
    assert (waiting, drawn) == (False, True)
    assert project.status == ProjectStatus.AWARDED
    assert project.draw.external_value == ""
    assert "未能取得" in project.draw.external_source
