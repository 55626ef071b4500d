"""``manage.py import_licences FILE``: bulk import of existing licences from CSV or JSON.

CSV: a header row with type_code, issuer_code, holder_name, holder_code, number, serial,
valid_from, valid_until and one ``face.<KEY>`` column per face field. JSON: a list of objects
with the same keys and ``face`` as an object. Every row is validated; refused rows are listed
with their reasons and nothing is imported unless all rows are good (exit status 1)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.licences.services.bulk import import_licences


def _read(path: Path, fmt: str) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8-sig")
    if fmt == "json":
        data = json.loads(text)
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise CommandError("JSON 文件应为对象数组")
        return data
    rows = []
    for raw in csv.DictReader(text.splitlines()):
        row: dict[str, Any] = {"face": {}}
        for key, value in raw.items():
            if key is None:
                continue
            if key.startswith("face."):
                if value:
                    row["face"][key[5:]] = value
            else:
                row[key] = value
        rows.append(row)
    return rows


class Command(BaseCommand):
    help = "批量导入存量电子证照（CSV 或 JSON），全部校验通过才导入"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--format", choices=["csv", "json"], default=None)
        parser.add_argument("--dry-run", action="store_true", help="只校验，不导入")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        fmt = options["format"] or ("json" if path.suffix.lower() == ".json" else "csv")
        try:
            rows = _read(path, fmt)
        except (ValueError, csv.Error) as exc:
            raise CommandError(f"文件无法解析：{exc}") from exc
        report = import_licences(rows, dry_run=options["dry_run"])
        for number, reason in report.refused:
            self.stdout.write(f"第 {number} 行被拒绝：{reason}")
        if not report.ok:
            raise CommandError(
                f"共 {report.total} 行，{len(report.refused)} 行被拒绝，未导入任何证照"
            )
        verb = "校验通过（未导入）" if options["dry_run"] else "已导入"
        self.stdout.write(f"共 {report.total} 行，{verb} {report.total} 本证照")
