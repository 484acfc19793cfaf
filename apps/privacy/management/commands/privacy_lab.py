"""python manage.py privacy_lab: what each role could learn about a home from what it reads."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.privacy.lab.runner import results_path, run_lab, save

COLUMNS = ("role", "consent", "defence", "resolution_seen", "attack", "balanced_accuracy",
           "mcc", "auc", "detector")  # fmt: skip


def table(rows: list[dict[str, Any]]) -> str:
    cells = [[str(row.get(c, "")) for c in COLUMNS] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Run the privacy attack lab: simulated homes ingested and read through the API as "
        "each role (all rolled back), and the attacks' scores against chance."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the rows as JSON")
        parser.add_argument("--households", type=int, default=12)
        parser.add_argument("--days", type=int, default=14)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--save", nargs="?", const=str(results_path()), default=None, metavar="PATH",
            help="also write the results for the portal's privacy page "
                 "(default: settings.PRIVACY_LAB_RESULTS or the shipped file)",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if options["households"] < 4 or options["days"] < 5:
            self.stderr.write("Use at least 4 households and 5 days (train and test halves).")
            raise SystemExit(2)
        started = time.monotonic()
        rows = run_lab(households=options["households"], days=options["days"], seed=options["seed"])
        if options["save"]:
            meta = {k: options[k] for k in ("households", "days", "seed")}
            save(rows, Path(options["save"]), **meta)
        if options["json"]:
            self.stdout.write(json.dumps(rows))
            return
        self.stdout.write(table(rows))
        self.stdout.write(
            f"\nChance: balanced accuracy 0.5, MCC 0, AUC 0.5. "
            f"{options['households']} homes, {options['days']} days, seed {options['seed']}, "
            f"{time.monotonic() - started:.0f} s; nothing was kept in the database."
        )
