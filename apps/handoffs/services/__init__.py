"""Every write of the handoff outbox: enqueue, deliver, answer, acknowledge, sweep, retry, re-route.

Delivery is at-least-once end to end (outbox row + on-commit task + beat sweeper + ``acks_late``)
and effectively once at the receiver through the handoff's idempotency key. Delivery follows
"claim, call, record" (STYLE.md T4): a short transaction claims the row and writes an attempt,
the HTTP call happens outside any transaction with explicit timeouts, a second short
transaction records the outcome and schedules the retry.

The package is split by sub-domain: ``outbox`` (enqueue), ``delivery`` (push and the sweeper),
``answers`` (acknowledgements and department answers) and ``admin`` (dead letters, endpoints
and signing keys); everything public is re-exported here.
"""

from apps.handoffs.services.admin import (
    add_signing_key,
    configure_endpoint,
    deactivate_signing_key,
    record_endpoint_admin_change,
    reroute_handoff,
    retry_handoff,
)
from apps.handoffs.services.answers import (
    acknowledge_handoff,
    acknowledge_handoffs,
    record_handoff_answer,
)
from apps.handoffs.services.delivery import (
    DUE_TOLERANCE,
    RETRYABLE_4XX,
    SWEEP_BATCH,
    PushRequest,
    PushResult,
    build_envelope,
    compute_backoff,
    deliver_handoff,
    sweep_handoffs,
)
from apps.handoffs.services.outbox import (
    SubjectRef,
    enqueue_handoff,
)

__all__ = [
    "DUE_TOLERANCE",
    "RETRYABLE_4XX",
    "SWEEP_BATCH",
    "PushRequest",
    "PushResult",
    "SubjectRef",
    "acknowledge_handoff",
    "acknowledge_handoffs",
    "add_signing_key",
    "build_envelope",
    "compute_backoff",
    "configure_endpoint",
    "deactivate_signing_key",
    "deliver_handoff",
    "enqueue_handoff",
    "record_endpoint_admin_change",
    "record_handoff_answer",
    "reroute_handoff",
    "retry_handoff",
    "sweep_handoffs",
]
