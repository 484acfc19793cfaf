"""python manage.py import_prices --series CODE --format {csv,entsoe,octopus,tempo} FILE"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.tariffs.importers import FORMATS, ImportFailed, import_prices


class Command(BaseCommand):
    help = (
        "Import day-ahead prices or a Tempo colour calendar into a price series (all or nothing)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--series", required=True, help="the price series code")
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            result = import_prices(
                series_code=options["series"], file=path, format=options["format"]
            )
        except ImportFailed as error:
            # CommandError exits with status 1; nothing was written.
            raise CommandError(f"{path}: {error} Nothing was imported.") from error
        self.stdout.write(
            f"Imported {result.count} {result.unit} into {result.series_code}"
            f" ({result.first} to {result.last})."
        )
