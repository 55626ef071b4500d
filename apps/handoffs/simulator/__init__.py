"""A fake department back-office system in its own process (``manage.py department_simulator``).

It talks to the portal only over HTTP, as a real department system would:

* **push** mode: a small HTTP receiver. Every POST is verified with ``apps.handoffs.verify`` (the
  documented scheme), its idempotency key is stored in the ``--record`` SQLite file *before* the
  2xx acknowledgement (a key seen before is acknowledged again but not stored twice: effectively
  once), and, after ``--answer-delay`` seconds, a decision is posted back through the answer API
  with an OAuth2 client-credentials token.
* **pull** mode: a poller of ``/api/v1/handoffs/inbox/`` that stores each handoff, acknowledges
  it by id and answers like the receiver.

Fault knobs for tests and benchmarks: ``--fail-rate`` / ``--fail-for-seconds`` (HTTP 500),
``--timeout-rate`` (sleep past the portal's timeout, then process anyway, as a slow system does),
``--status 4xx`` with ``--status-rate`` (refuse). Decisions carry result fields with
``--result KEY=VALUE`` / ``--result-for ITEM_CODE:KEY=VALUE`` (``results.py``). Everything the
simulator saw is in the record file: table ``received`` (one row per idempotency key),
``requests`` (one row per HTTP request or inbox item, with its outcome) and ``answers``.

``--national-reviews`` makes the push receiver play the national 好差评 system (``national.py``):
it also checks the national interface's fields, keeps a ``national`` table and acknowledges
with the national response body. ``--national-licences`` makes it play the national e-licence
sharing platform (``national_licences.py``): it checks each licence status change, keeps a
``licence_status`` table and acknowledges with the platform's body.

The package uses the standard library and ``requests`` only; it does not touch the database.
"""

from apps.handoffs.simulator.cli import add_arguments, config_from_options, configure_logging, main
from apps.handoffs.simulator.config import ANSWER_RETRIES, MAX_BODY_BYTES, SimulatorConfig
from apps.handoffs.simulator.department import Department
from apps.handoffs.simulator.portal import AnswerScheduler, PortalClient
from apps.handoffs.simulator.record import Recorder

__all__ = [
    "ANSWER_RETRIES",
    "MAX_BODY_BYTES",
    "AnswerScheduler",
    "Department",
    "PortalClient",
    "Recorder",
    "SimulatorConfig",
    "add_arguments",
    "config_from_options",
    "configure_logging",
    "main",
]
