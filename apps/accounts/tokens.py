"""Scoped, expiring API tokens for third parties: created, checked and revoked here.

Only the SHA-256 of a token is stored (a random 256-bit token needs no slow hash); the
raw token is returned once, at creation.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.models import ApiToken, AuditEvent

TOKEN_PREFIX = "heb_"  # noqa: S105  (not a secret: marks our tokens)
# What a token may be scoped to; the API views declare which one they need (`api_scope`).
SCOPES = {
    "households:read": gettext_lazy("read the households the owner may see"),
    "consumption:read": gettext_lazy("read consumption, within the owner's access and consent"),
    "devices:read": gettext_lazy("read the devices of those households"),
    "profile:read": gettext_lazy("read the owner's own profile"),
}
MAX_DAYS = 365
LAST_USED_EVERY = timedelta(minutes=1)  # at most one write per token per minute


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, owner: Any, name: str, scopes: list[str], days: int, created_by: Any = None
) -> tuple[ApiToken, str]:
    """A new token for `owner`; returns it and the raw token, which is never shown again."""
    from apps.accounts.mfa import mfa_required_for

    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValidationError({"scopes": _("Unknown scope: %s.") % ", ".join(unknown)})
    if not scopes:
        raise ValidationError({"scopes": _("Give the token at least one scope.")})
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": _("A token lives 1 to %d days.") % MAX_DAYS})
    if mfa_required_for(owner):  # staff sign in with MFA; a token would bypass it
        raise ValidationError({"owner": _("Staff accounts cannot have API tokens.")})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        owner=owner, name=name, prefix=raw[: len(TOKEN_PREFIX) + 6], digest=token_digest(raw),
        scopes=sorted(set(scopes)), expires_at=timezone.now() + timedelta(days=days),
    )  # fmt: skip
    _audit(AuditEvent.Kind.TOKEN_CREATED, token, created_by)
    return token, raw


def token_revoke(*, token: ApiToken, revoked_by: Any = None) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _audit(AuditEvent.Kind.TOKEN_REVOKED, token, revoked_by)


def token_find(raw: str) -> ApiToken | None:
    return ApiToken.objects.select_related("owner").filter(digest=token_digest(raw)).first()


def token_touch(token: ApiToken, now: datetime) -> None:
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def _audit(kind: str, token: ApiToken, actor: Any) -> None:
    from apps.accounts.audit import audit_record

    audit_record(
        kind=kind, user=actor, username="(command line)" if actor is None else "",
        object_type="api_token", object_id=str(token.pk),
        details={"owner": token.owner.get_username(), "scopes": token.scopes},
    )  # fmt: skip
