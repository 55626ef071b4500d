"""The handoffs demo: a push department and a pull department, played by simulators that
``make demo`` starts (apps/handoffs/demo.py, Makefile ``demo``)."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest

from apps.audit.models import AuditEvent
from apps.core.demo import load_core_demo
from apps.handoffs import demo
from apps.handoffs.constants import DeliveryMode, HandoffState
from apps.handoffs.models import DepartmentEndpoint, Handoff, HandoffAnswer
from apps.identity.demo import DEMO_API_CLIENT_ID, DEMO_CLIENT_SECRET, load_identity_demo
from apps.identity.models import ApiClient
from tests.conftest import wait_until

DEMO_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo.sh"
MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"


def _load() -> dict[str, int]:
    load_core_demo(stdout=StringIO())
    load_identity_demo(stdout=StringIO())
    return demo.load_handoffs_demo(stdout=StringIO())


@pytest.mark.django_db
def test_demo_configures_a_push_and_a_pull_department_once() -> None:
    # when the demo data is loaded (twice)
    first = _load()
    second = demo.load_handoffs_demo(stdout=StringIO())
    # then the demo department pushes, signed with the demo key, to the simulator's port
    push = DepartmentEndpoint.objects.get(department__uscc=demo.DEMO_DEPARTMENT_USCC)
    assert (push.mode, push.push_url) == (DeliveryMode.PUSH, demo.DEMO_PUSH_URL)
    assert [(k.key_id, k.secret, k.is_active) for k in push.keys.all()] == [
        (demo.DEMO_KEY_ID, demo.DEMO_KEY_SECRET, True)
    ]
    # and 南昌市行政审批局 pulls with its own client, one demo handoff waiting for it
    pull = DepartmentEndpoint.objects.get(department__uscc=demo.DEMO_PULL_DEPARTMENT_USCC)
    assert pull.mode == DeliveryMode.PULL
    client = ApiClient.objects.get(application__client_id=demo.DEMO_PULL_CLIENT_ID)
    assert client.department_id == pull.department_id
    assert "handoffs" in client.allowed_scopes.split()
    waiting = Handoff.objects.get(idempotency_key=demo.DEMO_PULL_HANDOFF_KEY)
    assert waiting.target_department_id == pull.department_id
    # the second load changed nothing and was not audited again
    assert (first, second) == ({"endpoints_changed": 1}, {"endpoints_changed": 0})
    assert Handoff.objects.count() == 1
    assert AuditEvent.objects.filter(action="handoffs.demo_loaded").count() == 1


def test_make_demo_starts_simulators_matching_the_demo_configuration() -> None:
    # scripts/demo.sh (make demo) starts the simulators with the key, port and clients the demo
    # data configures
    makefile = MAKEFILE.read_text()
    script = DEMO_SCRIPT.read_text()
    push = script[script.index("department_simulator --mode push") :].split("&\n", 1)[0]
    pull = script[script.index("department_simulator --mode pull") :].split("&\n", 1)[0]
    assert f"--key {demo.DEMO_KEY_ID}={demo.DEMO_KEY_SECRET}" in push
    assert f"--client-id {DEMO_API_CLIENT_ID}" in push
    assert '--port "$SIM_PORT"' in push
    assert re.search(r"^SIM_PORT \?= (\d+)$", makefile, re.M).group(1) == str(
        demo.DEMO_SIMULATOR_PORT
    )
    assert f"--client-id {demo.DEMO_PULL_CLIENT_ID}" in pull
    assert f"--client-secret {DEMO_CLIENT_SECRET}" in script
    # and the demo recipe runs the script, which stops every process it started on Ctrl-C
    recipe = makefile[makefile.index("demo: install") : makefile.index("test: install-dev")]
    assert "scripts/demo.sh" in recipe
    assert "trap stop INT TERM" in script
    assert 'kill -TERM "${pids[@]}"' in script


@pytest.mark.django_db(transaction=True)
def test_the_demo_pull_department_system_fetches_acknowledges_and_answers(
    department_simulator, live_server, settings
) -> None:
    # given the demo data and the pull department's simulator as make demo starts it
    settings.SITE_URL = live_server.url
    _load()
    simulator = department_simulator(
        "--mode",
        "pull",
        "--portal-url",
        live_server.url,
        "--client-id",
        demo.DEMO_PULL_CLIENT_ID,
        "--client-secret",
        DEMO_CLIENT_SECRET,
        "--answer",
        "received",
        "--poll-interval",
        "0.2",
    )
    # then the waiting demo handoff is fetched, acknowledged and answered over HTTP
    assert wait_until(lambda: HandoffAnswer.objects.count() == 1, timeout=30), simulator.log()
    handoff = Handoff.objects.get(idempotency_key=demo.DEMO_PULL_HANDOFF_KEY)
    assert handoff.state == HandoffState.ACKNOWLEDGED
    assert simulator.received_keys() == [demo.DEMO_PULL_HANDOFF_KEY]
