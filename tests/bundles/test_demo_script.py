"""``make demo`` (scripts/demo.sh) answers for the utility companies of 二手房水电气网联动过户:
one pull-mode simulator per company client the demo data configures, logging to var/ and
stopped with the rest."""

import re
from pathlib import Path

from apps.handoffs.demo import UTILITY_CLIENTS
from apps.identity.demo import DEMO_CLIENT_SECRET

DEMO_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo.sh"


def test_demo_script_starts_a_pull_simulator_for_each_utility_company() -> None:
    script = DEMO_SCRIPT.read_text()
    loop = script[script.index("for utility in ") :].split("\ndone\n", 1)[0]
    # one process per company, each with the client its demo department polls with
    companies = re.match(r"for utility in ([a-z ]+); do", loop).group(1).split()
    assert sorted(f"demo-{name}-api" for name in companies) == sorted(UTILITY_CLIENTS.values())
    assert '--client-id "demo-$utility-api"' in loop
    assert "--mode pull" in loop
    assert f"--client-secret {DEMO_CLIENT_SECRET}" in script  # through SIM_PORTAL
    assert '"${SIM_PORTAL[@]}"' in loop
    # a quiet console (output in var/) and stopped with every other process
    assert '>"$VAR/demo-sim-$utility.log" 2>&1 &' in loop
    assert "pids+=($!)" in loop
