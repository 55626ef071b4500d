"""The JSON log formatter (apps/core/logging.py)."""

import json
import logging

from apps.core.logging import JsonFormatter


def test_an_extra_named_like_a_field_does_not_replace_it() -> None:
    # given: a record whose extra has "level" (as SLA warnings had: "level": "red")
    record = logging.makeLogRecord(
        {"name": "apps.cases", "levelno": logging.WARNING, "levelname": "WARNING"}
    )
    record.msg = "case.sla_warning"
    record.level = "red"
    record.case_id = 7

    # when
    line = json.loads(JsonFormatter().format(record))

    # then: the level stays a logging level, the extra is kept under another name
    assert line["level"] == "WARNING"
    assert line["extra_level"] == "red"
    assert line["case_id"] == 7
    assert line["event"] == "case.sla_warning"


def test_django_records_are_logged_once_through_the_root_handlers() -> None:
    # Django's DEFAULT_LOGGING gives "django" its own console handler (under DEBUG); the
    # project's config removes it, so a 404 is one JSON line, not a plain line and a JSON one.
    django_logger = logging.getLogger("django")

    assert django_logger.handlers == []
    assert django_logger.propagate is True
    assert logging.getLogger().handlers
