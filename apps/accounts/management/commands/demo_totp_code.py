from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.demo import demo_current_code
from apps.accounts.models import User


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo login (seeded by seed_demo; demo devices only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        code = demo_current_code(user=user) if user else None
        if code is None:
            raise CommandError(f"{username!r} has no demo TOTP device (run seed_demo).")
        self.stdout.write(code)
