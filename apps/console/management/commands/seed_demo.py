import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.accounts.demo import demo_device_reset
from apps.accounts.models import User
from apps.console.demo import seed_demo
from apps.forecasting.models import PvSystem
from apps.forecasting.services import forecast_households


class Command(BaseCommand):
    help = "Build the demo world (deterministic for a seed) and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--logins-file",
            default="",
            help="Also write the logins to this file (kept out of git).",
        )

    def handle(self, *args: Any, seed: int, logins_file: str, **options: Any) -> None:
        demo = seed_demo(seed=seed, password=os.environ.get("DEMO_PASSWORD") or None)
        # Today's and tomorrow's PV forecasts, so the planner and the forecast page have
        # them at once (beat issues them every evening afterwards).
        for horizon in ("day_ahead", "intraday"):
            forecast_households(
                household_ids=list(
                    PvSystem.objects.values_list("household_id", flat=True).distinct()
                ),
                horizon=horizon,
            )
        # Staff must give a TOTP code after the password, households before controlling
        # devices: each demo login gets a fresh secret, like its password.
        totp = {
            x.username: demo_device_reset(user=User.objects.get(username=x.username)) or "-"
            for x in demo.logins
        }
        lines = [f"{'username':<14} {'password':<14} {'role':<22} {'tenant':<16} TOTP secret"]
        lines += [
            f"{x.username:<14} {x.password:<14} {x.role!s:<22} {x.tenant:<16} {totp[x.username]}"
            for x in demo.logins
        ]
        lines += [
            "",
            "After the password, enter the TOTP code: add the secret to an authenticator app,",
            "or print the current code: `.venv/bin/python manage.py demo_totp_code <username>`.",
        ]
        lines += ["", f"{'spare box':<14} {'claim code':<14} tenant"]
        lines += [f"{b.serial:<14} {b.claim_code:<14} {b.tenant}" for b in demo.spare_boxes]
        text = "\n".join(lines)
        if logins_file:
            with open(logins_file, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            os.chmod(logins_file, 0o600)
        self.stdout.write(self.style.SUCCESS(f"Demo world ready (seed {seed}). Logins:"))
        self.stdout.write(text)
