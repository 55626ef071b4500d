"""Result fields the simulated department puts in its decisions (``--result``, ``--result-for``).

A real back office decides with data of its own: the number of the certificate it issued, a
registration number. The portal stores them as the case's ``result_data``, where a bundle's output
mapping passes them on to the next item (e.g. the 出生医学证明 number into the 出生登记 form).

* ``--result KEY=VALUE`` (repeatable): a field in every decision.
* ``--result-for CODE:KEY=VALUE`` (repeatable): a field only in decisions on cases of the item
  whose implementation code or basic code is ``CODE``; it wins over ``--result`` for the same key.

A value is a template: ``{case_number}`` (the case number in the handoff), ``{handoff_id}`` and
``{seq}`` (the handoff's row number in the record file: 1, 2, 3, … in the order received, stable
across restarts with the same ``--record`` file) are filled in, with Python format specs
(``Q3601{seq:06d}`` → ``Q3601000001``). ``{{`` and ``}}`` are literal braces.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from typing import Any

PLACEHOLDERS = {"case_number": "CASE-1", "handoff_id": 1, "seq": 1}


def check_template(value: str) -> None:
    """Raise ``ValueError`` if ``value`` uses a placeholder or format spec that cannot render."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        raise ValueError(f"result value {value!r}: {exc}") from exc
    unknown = sorted(set(fields) - set(PLACEHOLDERS))
    if unknown:
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise ValueError(f"result value {value!r}: unknown placeholder {unknown[0]!r} ({known})")
    try:
        value.format_map(PLACEHOLDERS)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"result value {value!r}: {exc}") from exc


def parse_result(option: str) -> tuple[str, str]:
    """``KEY=VALUE`` → ``(key, value)``."""
    key, sep, value = option.partition("=")
    if not sep or not key.strip():
        raise ValueError("expected KEY=VALUE")
    check_template(value)
    return key.strip(), value


def parse_item_result(option: str) -> tuple[str, str, str]:
    """``CODE:KEY=VALUE`` → ``(code, key, value)``."""
    code, sep, rest = option.partition(":")
    if not sep or not code.strip():
        raise ValueError("expected ITEM_CODE:KEY=VALUE")
    key, value = parse_result(rest)
    return code.strip(), key, value


def collect(
    results: Iterable[tuple[str, str]], item_results: Iterable[tuple[str, str, str]]
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The parsed options as ``({key: template}, {code: {key: template}})``."""
    per_item: dict[str, dict[str, str]] = {}
    for code, key, value in item_results:
        per_item.setdefault(code, {})[key] = value
    return dict(results), per_item


def render(
    results: Mapping[str, str],
    item_results: Mapping[str, Mapping[str, str]],
    envelope: Mapping[str, Any],
    *,
    seq: int,
) -> dict[str, str]:
    """The result fields of the decision on ``envelope``'s handoff."""
    payload = envelope.get("payload") or {}
    templates = dict(results)
    for code_field in ("basic_code", "implementation_code"):
        code = payload.get(code_field)
        if code and code in item_results:
            templates.update(item_results[code])
    values = {
        "case_number": payload.get("case_number") or "",
        "handoff_id": envelope.get("handoff_id"),
        "seq": seq,
    }
    return {key: template.format_map(values) for key, template in templates.items()}
