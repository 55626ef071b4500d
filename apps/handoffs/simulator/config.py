"""The simulator's settings (one dataclass, filled from the command line)."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.handoffs.simulator.results import check_template
from apps.handoffs.verify import DEFAULT_WINDOW_SECONDS

MAX_BODY_BYTES = 5 * 1024 * 1024
ANSWER_RETRIES = 30


@dataclass
class SimulatorConfig:
    mode: str = "push"
    host: str = "127.0.0.1"
    port: int = 8765
    keys: dict[str, str] = field(default_factory=dict)
    replay_window: int = DEFAULT_WINDOW_SECONDS
    record: str = ":memory:"
    portal_url: str = ""
    token_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    scope: str = "handoffs"
    answer: str = "none"
    answer_delay: float = 0.0
    answer_subject: str = ""
    decision: str = "approved"
    reason: str = ""
    complete: bool = False
    # Result fields of the decisions (simulator/results.py): {key: template}, and per item code.
    results: dict[str, str] = field(default_factory=dict)
    item_results: dict[str, dict[str, str]] = field(default_factory=dict)
    fail_rate: float = 0.0
    fail_for_seconds: float = 0.0
    timeout_rate: float = 0.0
    timeout_sleep: float = 35.0
    latency: float = 0.0
    status: int | None = None
    status_rate: float = 1.0
    poll_interval: float = 1.0
    poll_limit: int = 100
    ack: str = "batch"
    answer_threads: int = 4
    seed: int | None = None
    national_reviews: bool = False
    national_licences: bool = False

    def __post_init__(self) -> None:
        if self.mode not in ("push", "pull"):
            raise ValueError("mode is push or pull")
        if self.mode == "push" and not self.keys:
            raise ValueError("push mode needs at least one --key KEY_ID=SECRET")
        if (self.mode == "pull" or self.answer != "none") and not (
            self.portal_url and self.client_id and self.client_secret
        ):
            raise ValueError("pull mode and answers need --portal-url, --client-id and a secret")
        if self.national_reviews and self.mode != "push":
            raise ValueError("--national-reviews plays a push receiver (--mode push)")
        if self.national_licences and self.mode != "push":
            raise ValueError("--national-licences plays a push receiver (--mode push)")
        if self.national_reviews and self.national_licences:
            raise ValueError("one national system per simulator")
        if (self.results or self.item_results) and self.answer not in ("decision", "both"):
            raise ValueError("--result and --result-for need --answer decision or both")
        for templates in (self.results, *self.item_results.values()):
            for template in templates.values():
                check_template(template)
        if self.status is not None and not 400 <= self.status < 500:
            raise ValueError("--status must be a 4xx code")
        if self.portal_url and not self.token_url:
            self.token_url = self.portal_url.rstrip("/") + "/o/token/"
