from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import ApiToken, User
from apps.accounts.tokens import SCOPES, token_create, token_revoke


class Command(BaseCommand):
    help = (
        "Create (the raw token is printed once, never stored), list or revoke third-party "
        "API tokens. Scopes: " + ", ".join(SCOPES)
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create")
        create.add_argument("--user", required=True, help="the token acts as this user")
        create.add_argument("--name", required=True)
        create.add_argument("--scope", action="append", required=True, dest="scopes")
        create.add_argument("--days", type=int, default=90)
        listing = sub.add_parser("list")
        listing.add_argument("--user", default="")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("prefix", help="the token's first characters, as listed")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        getattr(self, f"_{verb}")(**options)

    def _create(self, *, user: str, name: str, scopes: list[str], days: int, **_: Any) -> None:
        owner = User.objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"No user {user!r}.")
        try:
            token, raw = token_create(owner=owner, name=name, scopes=scopes, days=days)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"Token {token.prefix}… for {owner} until {token.expires_at:%Y-%m-%d}")
        self.stdout.write("Copy it now, it is not stored and will not be shown again:")
        self.stdout.write(raw)

    def _list(self, *, user: str, **_: Any) -> None:
        tokens = ApiToken.objects.select_related("owner")
        if user:
            tokens = tokens.filter(owner__username=user)
        for t in tokens:
            state = "revoked" if t.revoked_at else f"expires {t.expires_at:%Y-%m-%d}"
            self.stdout.write(f"{t.prefix:<12} {t.owner} {t.name!r} {','.join(t.scopes)} {state}")

    def _revoke(self, *, prefix: str, **_: Any) -> None:
        matches = list(ApiToken.objects.filter(prefix__startswith=prefix))
        if len(matches) != 1:
            raise CommandError(f"{len(matches)} tokens start with {prefix!r}: give more of it.")
        token_revoke(token=matches[0])
        self.stdout.write(f"Revoked {matches[0]}.")
