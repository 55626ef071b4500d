"""The marketplace part of ``loaddemo``: the list, 30 agencies, projects in every state, a
completed draw that the stand-alone script recomputes, idempotent."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest

from django.urls import reverse

from apps.core.demo import load_core_demo
from apps.identity.demo import load_identity_demo
from apps.marketplace.constants import AgencyServiceStatus, AgencyStatus, ProjectStatus
from apps.marketplace.demo import load_marketplace_demo
from apps.marketplace.models import Agency, AgencyService, Draw, Project

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_loads_every_state_and_a_recomputable_draw(client, tmp_path):
    # given
    load_core_demo(stdout=StringIO())
    load_identity_demo(stdout=StringIO())
    # when
    first = load_marketplace_demo(stdout=StringIO())
    second = load_marketplace_demo(stdout=StringIO())
    # then
    assert first["agencies"] == 30
    assert second == {"services": 0, "agencies": 0, "projects": 0}
    assert Agency.objects.filter(status=AgencyStatus.EXPELLED).count() == 1
    assert AgencyService.objects.filter(status=AgencyServiceStatus.SUSPENDED).count() == 1
    states = set(Project.objects.values_list("status", flat=True))
    assert {
        ProjectStatus.SUBMITTED,
        ProjectStatus.RETURNED,
        ProjectStatus.REGISTERING,
        ProjectStatus.AWAITING_PICK,
        ProjectStatus.AWARDED,
        ProjectStatus.FAILED,
    } <= states
    draw = Draw.objects.get(status="drawn", purpose="winner")
    source = tmp_path / "draw.json"
    source.write_text(
        client.get(reverse("marketplace:draw_json", args=[draw.pk])).content.decode(),
        encoding="utf-8",
    )
    script = Path(__file__).resolve().parents[2] / "scripts" / "recompute_draw.py"
    completed = subprocess.run(
        [sys.executable, str(script), str(source)], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout
    assert json.loads(completed.stdout)["result"] == draw.result
