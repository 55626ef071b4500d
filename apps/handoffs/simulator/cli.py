"""Command line: options, configuration, JSON-lines logging and ``main``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from apps.handoffs.simulator.config import SimulatorConfig
from apps.handoffs.simulator.department import Department
from apps.handoffs.simulator.results import collect, parse_item_result, parse_result
from apps.handoffs.verify import DEFAULT_WINDOW_SECONDS

logger = logging.getLogger("department_simulator")


def _key(value: str) -> tuple[str, str]:
    key_id, sep, secret = value.partition("=")
    if not sep or not key_id or not secret:
        raise argparse.ArgumentTypeError("expected KEY_ID=SECRET")
    return key_id, secret


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError("a rate is between 0 and 1")
    return rate


def _result(value: str) -> tuple[str, str]:
    try:
        return parse_result(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _item_result(value: str) -> tuple[str, str, str]:
    try:
        return parse_item_result(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=["push", "pull"], default="push")
    parser.add_argument("--host", default="127.0.0.1", help="push: address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="push: port to listen on")
    parser.add_argument(
        "--key",
        type=_key,
        action="append",
        default=[],
        metavar="KEY_ID=SECRET",
        help="a signing key the department holds (repeat during a rotation)",
    )
    parser.add_argument("--replay-window", type=int, default=DEFAULT_WINDOW_SECONDS)
    parser.add_argument("--record", default=":memory:", help="SQLite file recording everything")
    parser.add_argument("--portal-url", default="", help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--token-url", default="", help="default: <portal-url>/o/token/")
    parser.add_argument("--client-id", default="")
    parser.add_argument("--client-secret", default="")
    parser.add_argument("--scope", default="handoffs")
    parser.add_argument(
        "--answer", choices=["none", "received", "decision", "both"], default="none"
    )
    parser.add_argument("--answer-delay", type=float, default=0.0, help="seconds")
    parser.add_argument(
        "--answer-subject",
        default="",
        help="answer only handoffs of this subject type (e.g. cases.case)",
    )
    parser.add_argument("--decision", default="approved")
    parser.add_argument("--reason", default="")
    parser.add_argument("--complete", action="store_true", help="decisions also complete")
    parser.add_argument(
        "--result",
        type=_result,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a result field in every decision (repeatable); VALUE may use {case_number}, "
        "{handoff_id} and {seq} (1, 2, 3, ... in the order received), e.g. Q3601{seq:06d}",
    )
    parser.add_argument(
        "--result-for",
        type=_item_result,
        action="append",
        default=[],
        metavar="ITEM_CODE:KEY=VALUE",
        help="a result field only in decisions on cases of the item with this implementation "
        "or basic code (repeatable; wins over --result), e.g. 360100000001:certificate_no=Q{seq}",
    )
    parser.add_argument("--fail-rate", type=_rate, default=0.0, help="share of requests → 500")
    parser.add_argument(
        "--fail-for-seconds", type=float, default=0.0, help="answer 500 to everything at first"
    )
    parser.add_argument("--timeout-rate", type=_rate, default=0.0)
    parser.add_argument(
        "--timeout-sleep", type=float, default=35.0, help="longer than the portal's timeout"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds between storing and answering 2xx"
    )
    parser.add_argument("--status", type=int, default=None, help="answer this 4xx")
    parser.add_argument("--status-rate", type=_rate, default=1.0)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--poll-limit", type=int, default=100)
    parser.add_argument(
        "--ack", choices=["batch", "single"], default="batch", help="pull: one ack per page or id"
    )
    parser.add_argument("--answer-threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--national-reviews",
        action="store_true",
        help="play the national 好差评 system: check the interface fields, store, acknowledge",
    )
    parser.add_argument(
        "--national-licences",
        action="store_true",
        help="play the national e-licence sharing platform: check licence status changes, "
        "store, acknowledge",
    )


def config_from_options(options: dict[str, Any]) -> SimulatorConfig:
    names = set(SimulatorConfig.__dataclass_fields__) - {"keys", "results", "item_results"}
    values = {k: v for k, v in options.items() if k in names}
    results, item_results = collect(options.get("result") or [], options.get("result_for") or [])
    return SimulatorConfig(
        keys=dict(options.get("key") or []),
        results=results,
        item_results=item_results,
        **values,
    )


class _JsonLines(logging.Formatter):
    _STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        payload = {"time": round(record.created, 3), "level": record.levelname}
        payload["event"] = record.getMessage()
        payload.update({k: v for k, v in record.__dict__.items() if k not in self._STANDARD})
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_JsonLines())
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    configure_logging()
    Department(config_from_options(options)).serve()
    return 0
