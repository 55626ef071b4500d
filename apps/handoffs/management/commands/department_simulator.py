"""``manage.py department_simulator``: run a fake department back-office system (own process).

See ``apps/handoffs/simulator/`` for what it does and docs/handoffs.md for examples. It talks to
the portal over HTTP only (signed pushes in, OAuth2 API calls out) and never touches the database.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.handoffs import simulator


class Command(BaseCommand):
    help = "Run a simulated department system: push receiver or pull poller, with fault knobs."

    def add_arguments(self, parser: CommandParser) -> None:
        simulator.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = simulator.config_from_options(options)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        simulator.configure_logging()
        simulator.Department(config).serve()
