"""The simulator's decisions carry result fields (``--result``, ``--result-for``): parsed from
the command line, rendered per handoff (item code, case number, sequence) and posted with the
decision answer, the same data on every retry. The bundle journey (tests/e2e/
test_bundle_journey.py) runs it as a process against the portal."""

from __future__ import annotations

import argparse
import threading
from typing import Any

import pytest

from apps.handoffs.simulator import AnswerScheduler, Recorder, config_from_options
from apps.handoffs.simulator.cli import add_arguments

PORTAL = ["--portal-url", "http://portal.test", "--client-id", "c", "--client-secret", "s"]


def _config(*argv: str):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return config_from_options(vars(parser.parse_args(["--key", "k1=secret", *argv])))


def _envelope(handoff_id: int, *, basic_code: str, case_number: str) -> dict[str, Any]:
    return {
        "handoff_id": handoff_id,
        "idempotency_key": f"case:{handoff_id}:accepted",
        "subject": {"type": "cases.case", "id": str(handoff_id)},
        "answer_url": f"http://portal.test/api/v1/handoffs/{handoff_id}/answers/",
        "payload": {
            "case_number": case_number,
            "basic_code": basic_code,
            "implementation_code": f"{basic_code}-IMPL",
        },
    }


class _Portal:
    """Records the answers posted; answers 503 to the first ``failures`` of them."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.posts: list[dict[str, Any]] = []
        self.done = threading.Event()

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        self.posts.append({"url": url, **kwargs["json"]})
        status = 503 if len(self.posts) <= self.failures else 201
        if status == 201:
            self.done.set()
        return type("Response", (), {"status_code": status})()

    def api(self, path: str) -> str:
        return "http://portal.test" + path


def test_result_options_are_parsed_per_item_and_rendered_per_handoff() -> None:
    # given: a field for every decision, and fields for two items (by basic or implementation
    # code), one overriding the common field
    config = _config(
        *PORTAL,
        "--answer",
        "decision",
        "--result",
        "note=已办结 {case_number}",
        "--result",
        "certificate_no=none",
        "--result-for",
        "000000000001:certificate_no=Q3601{seq:06d}",
        "--result-for",
        "000000000002-IMPL:hukou_no=H-{handoff_id}",
    )
    recorder = Recorder(":memory:")
    scheduler = AnswerScheduler(config, _Portal(), recorder)  # type: ignore[arg-type]
    envelopes = [
        _envelope(41, basic_code="000000000001", case_number="C-41"),
        _envelope(42, basic_code="000000000002", case_number="C-42"),
        _envelope(43, basic_code="000000000001", case_number="C-43"),
    ]
    for envelope in envelopes:
        recorder.store(envelope)
    try:
        # when: the decisions' result fields are rendered
        rendered = [scheduler.decision_result(envelope) for envelope in envelopes]
    finally:
        scheduler.stop()
    # then: per item, with the case number, the handoff id and the sequence filled in
    assert config.item_results == {
        "000000000001": {"certificate_no": "Q3601{seq:06d}"},
        "000000000002-IMPL": {"hukou_no": "H-{handoff_id}"},
    }
    assert rendered == [
        {"note": "已办结 C-41", "certificate_no": "Q3601000001"},
        {"note": "已办结 C-42", "certificate_no": "none", "hukou_no": "H-42"},
        {"note": "已办结 C-43", "certificate_no": "Q3601000003"},
    ]


def test_the_decision_posts_the_result_and_a_retry_posts_the_same() -> None:
    # given: a simulator deciding with a numbered certificate, and a portal failing once
    config = _config(
        *PORTAL, "--answer", "decision", "--complete", "--result", "certificate_no=Q{seq:04d}"
    )
    portal = _Portal(failures=1)
    recorder = Recorder(":memory:")
    scheduler = AnswerScheduler(config, portal, recorder)  # type: ignore[arg-type]
    envelope = _envelope(7, basic_code="000000000009", case_number="C-7")
    recorder.store(envelope)
    try:
        # when: the handoff is answered
        scheduler.schedule(envelope)
        assert portal.done.wait(10)
    finally:
        scheduler.stop()
    # then: the decision carried the result, and the retry sent exactly the same answer
    first, retry = portal.posts
    assert first == retry
    assert first["kind"] == "decision"
    assert first["idempotency_key"] == "case:7:accepted:decision"
    assert first["data"] == {
        "decision": "approved",
        "reason": "",
        "complete": True,
        "result": {"certificate_no": "Q0001"},
    }


def test_without_result_options_a_decision_has_no_result() -> None:
    config = _config(*PORTAL, "--answer", "decision")
    scheduler = AnswerScheduler(config, _Portal(), Recorder(":memory:"))  # type: ignore[arg-type]
    try:
        assert scheduler.decision_result(_envelope(1, basic_code="1", case_number="C")) == {}
    finally:
        scheduler.stop()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--answer", "decision", "--result", "no-equals-sign"], "expected KEY=VALUE"),
        (["--answer", "decision", "--result-for", "certificate_no=1"], "ITEM_CODE:KEY=VALUE"),
        (["--answer", "decision", "--result", "n=Q{number}"], "unknown placeholder 'number'"),
        (["--answer", "decision", "--result", "n=Q{seq:x"], "result value"),
    ],
)
def test_malformed_result_options_are_refused(argv, message, capsys) -> None:
    with pytest.raises(SystemExit):
        _config(*PORTAL, *argv)
    assert message in capsys.readouterr().err


def test_results_need_decisions() -> None:
    with pytest.raises(ValueError, match="need --answer decision or both"):
        _config(*PORTAL, "--answer", "received", "--result", "certificate_no=Q{seq}")
