"""`Authorization: Bearer heb_…`: a third party's scoped, expiring API token."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from apps.accounts.mfa import mfa_required_for
from apps.accounts.models import ApiToken
from apps.accounts.tokens import TOKEN_PREFIX, token_find, token_touch

KEYWORD = b"bearer"


def _failures_key(request: Request) -> str:
    return f"api-token-failures:{request.META.get('REMOTE_ADDR', '')}"


class ApiTokenAuthentication(BaseAuthentication):
    """Every refusal is a 401 with the reason (expired, revoked, unknown)."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None  # not ours: the session (or nothing) decides
        if len(parts) != 2 or not parts[1].startswith(TOKEN_PREFIX.encode()):
            raise exceptions.AuthenticationFailed(_("Malformed API token header."))
        if cache.get(_failures_key(request), 0) >= settings.API_TOKEN_FAILURE_LIMIT:
            raise exceptions.Throttled(detail=_("Too many wrong API tokens from this address."))
        token = token_find(parts[1].decode(errors="replace"))
        now = timezone.now()
        if token is None:
            self._count_failure(request)
            raise exceptions.AuthenticationFailed(_("Unknown API token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This API token has been revoked."))
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(
                _("This API token expired on %s.") % token.expires_at.isoformat()
            )
        owner = token.owner
        if not owner.is_active or mfa_required_for(owner):  # staff may not use tokens
            raise exceptions.AuthenticationFailed(_("This API token's account cannot use tokens."))
        token_touch(token, now)
        return owner, token

    def authenticate_header(self, request: Request) -> str | None:
        """A refused token answers 401 with this header; requests without one keep the
        session's answer (403), as before tokens existed."""
        parts = get_authorization_header(request).split()
        return 'Bearer realm="api"' if parts and parts[0].lower() == KEYWORD else None

    @staticmethod
    def _count_failure(request: Request) -> None:
        key = _failures_key(request)
        timeout = int(settings.AXES_COOLOFF_TIME.total_seconds())
        if not cache.add(key, 1, timeout):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI document (and Swagger UI's Authorize button)."""

    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A third party's scoped, expiring token (`manage.py api_token`).",
        }
