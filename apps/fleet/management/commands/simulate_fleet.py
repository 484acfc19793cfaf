"""python manage.py simulate_fleet --gateways N --speed X: virtual boxes against a live server."""

from __future__ import annotations

import signal
import sys
import threading
import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import User
from apps.core.permissions import Role
from apps.fleet.simulation import fleet_for_simulation, progress_line, start_fleet


class Command(BaseCommand):
    help = (
        "Run virtual Home Energy Boxes for the demo households against a running server: "
        "each is claimed and provisioned through the agent API, then uploads signed batches "
        "of its simulated meter and devices."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--gateways", type=int, default=5, help="how many boxes")
        parser.add_argument("--speed", type=float, default=1.0, help="simulated s per real s")
        parser.add_argument(
            "--backfill-hours", type=float, default=0.0,
            help="start this long ago and catch up at --speed, then run in real time",
        )  # fmt: skip
        parser.add_argument("--server", default="http://127.0.0.1:8000")
        parser.add_argument("--tenant", default=None, help="only this tenant's boxes (slug)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--duration", type=float, default=None, help="stop after N real s")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["gateways"] < 1 or options["speed"] <= 0:
            raise CommandError("--gateways must be at least 1 and --speed more than 0.")
        admin = User.objects.filter(role=Role.PLATFORM_ADMIN, is_active=True).first()
        if admin is None:
            raise CommandError("No platform admin to claim the boxes: run seed_demo first.")
        gateways = fleet_for_simulation(options["gateways"], options["tenant"])
        if not gateways:
            raise CommandError("No claimed gateway with an approved meter pairing: seed_demo?")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        runners = start_fleet(
            gateways=gateways, admin=admin, server_url=options["server"],
            speed=options["speed"], backfill=timedelta(hours=options["backfill_hours"]),
            seed=options["seed"], stop=stop,
        )  # fmt: skip
        self.stdout.write(f"Simulating {len(runners)} boxes against {options['server']}")
        self.report(runners, stop, options["duration"])

    def report(self, runners: list[Any], stop: threading.Event, duration: float | None) -> None:
        started = time.monotonic()
        interactive = sys.stdout.isatty()
        try:
            while not stop.wait(2):
                line = progress_line(runners)
                self.stdout.write(f"\r{line}   " if interactive else line, ending="")
                if not interactive:
                    self.stdout.write("")
                if duration is not None and time.monotonic() - started >= duration:
                    break
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            for runner in runners:
                if runner.thread:
                    runner.thread.join(timeout=30)
                runner.box.close()
            self.stdout.write("\n" + progress_line(runners))
            for runner in runners:
                if runner.error:
                    self.stderr.write(f"{runner.box.serial}: {runner.error}")
