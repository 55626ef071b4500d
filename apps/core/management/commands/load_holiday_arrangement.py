"""Load the State Council's holiday arrangement for a year from a file of its dates.

    python manage.py load_holiday_arrangement var/2027.txt

The file format is described in ``apps.core.services.parse_arrangement``. Open deadlines the
arrangement moves are recomputed (audited) and the clerks of those cases are told.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.exceptions import DomainError
from apps.core.services import load_calendar_arrangement, parse_arrangement


class Command(BaseCommand):
    help = "Load a year's State Council holiday arrangement (holidays and 调休 working days)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="file with year / notice / holiday / workday lines")

    def handle(self, *args: Any, path: str, **options: Any) -> None:
        try:
            year, notice, days = parse_arrangement(Path(path).read_text(encoding="utf-8"))
            result = load_calendar_arrangement(year=year, notice=notice, days=days, actor=None)
        except (OSError, DomainError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{year}: {result['days']} days loaded, {result['recomputed']} deadlines recomputed"
        )
