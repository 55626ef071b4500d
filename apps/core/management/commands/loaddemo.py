"""``manage.py loaddemo``: load base and demo data, idempotently (ARCHITECTURE.md contract).

Each app that has demo data provides a loader ``load_<app>_demo(*, stdout) -> dict[str, int]``
in ``apps/<app>/demo.py`` and adds its dotted path to ``DEMO_LOADERS``, after the loaders whose
data it needs. A loader must be safe to run any number of times and returns counts for the
summary line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from apps.core.demo import DemoDataError

# Ordered: later loaders may rely on data from earlier ones (dependencies point one way, see
# ARCHITECTURE.md). Only list loaders whose module exists; a broken import must fail loudly.
DEMO_LOADERS: list[str] = [
    "apps.core.demo.load_core_demo",
    "apps.identity.demo.load_identity_demo",
    "apps.catalog.demo.load_catalog_demo",
    "apps.licences.demo.load_licences_demo",
    "apps.cases.demo.load_cases_demo",
    "apps.handoffs.demo.load_handoffs_demo",
    "apps.reviews.demo.load_reviews_demo",
    "apps.bundles.demo.load_bundles_demo",
    "apps.marketplace.demo.load_marketplace_demo",
]

Loader = Callable[..., Mapping[str, int]]


class Command(BaseCommand):
    help = "加载演示数据（可重复执行）：行政区划、工作日历、部门、政务大厅与窗口等。"

    def handle(self, *args: Any, **options: Any) -> None:
        for path in DEMO_LOADERS:
            loader: Loader = import_string(path)
            self.stdout.write(f"{path} …")
            try:
                counts = loader(stdout=self.stdout)
            except DemoDataError as exc:
                raise CommandError(f"{path}: {exc}") from exc
            summary = ", ".join(f"{key}={value}" for key, value in counts.items())
            self.stdout.write(self.style.SUCCESS(f"{path}: {summary}"))
        self.stdout.write(self.style.SUCCESS("演示数据已就绪"))
