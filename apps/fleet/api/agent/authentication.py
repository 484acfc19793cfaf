"""Who is calling the agent API: a gateway, proven by an HMAC over the request.

Checked in this order so that cheap refusals come first and nothing unauthenticated
reaches the nonce store: headers present, timestamp within ±5 min, key usable,
signature, then the nonce (a reused nonce is a replay).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from apps.fleet import secrets
from apps.fleet.models import AlarmKind, Gateway, GatewayCredential
from apps.fleet.services import alarm_raise, credential_used
from gateway_agent import signing

NONCE_TTL_S = 2 * signing.MAX_CLOCK_SKEW_S + 60  # a nonce outlives every timestamp it could ride


@dataclass(frozen=True)
class AuthenticatedGateway:
    """`request.user` on the agent API: a box, never a person."""

    gateway: Gateway
    credential: GatewayCredential
    is_authenticated: bool = True
    is_active: bool = True
    role: None = None  # no role: every user-facing restrict() fails closed for it


class GatewaySignatureAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[AuthenticatedGateway, GatewayCredential]:
        headers = _signed_headers(request)
        timestamp = _fresh_timestamp(headers[signing.TIMESTAMP_HEADER])
        credential = _usable_credential(headers)
        body = request.body
        if not signing.signature_matches(
            secrets.secret_bytes(secrets.decrypt(credential.secret_encrypted)),
            headers[signing.SIGNATURE_HEADER],
            method=request.method,
            path=request.get_full_path(),
            timestamp=timestamp,
            nonce=headers[signing.NONCE_HEADER],
            body=body,
        ):
            alarm_raise(
                gateway=credential.gateway,
                kind=AlarmKind.BAD_SIGNATURE,
                message="a request with a valid key id but a wrong signature",
            )
            raise exceptions.AuthenticationFailed("Bad signature.")
        _consume_nonce(credential, headers[signing.NONCE_HEADER])
        credential_used(credential=credential, now=timezone.now())
        return AuthenticatedGateway(credential.gateway, credential), credential

    def authenticate_header(self, request: Any) -> str:
        return 'HEB-HMAC realm="agent"'


def _signed_headers(request: Any) -> dict[str, str]:
    names = (
        signing.GATEWAY_HEADER,
        signing.KEY_HEADER,
        signing.TIMESTAMP_HEADER,
        signing.NONCE_HEADER,
        signing.SIGNATURE_HEADER,
    )
    headers = {name: request.headers.get(name, "") for name in names}
    missing = [name for name, value in headers.items() if not value]
    if missing:
        raise exceptions.NotAuthenticated(f"Missing header {missing[0]}.")
    if not 16 <= len(headers[signing.NONCE_HEADER]) <= 64:
        raise exceptions.AuthenticationFailed("The nonce must be 16 to 64 characters.")
    return headers


def _fresh_timestamp(raw: str) -> int:
    try:
        timestamp = int(raw)
    except ValueError:
        raise exceptions.AuthenticationFailed("The timestamp must be Unix seconds.") from None
    if abs(time.time() - timestamp) > signing.MAX_CLOCK_SKEW_S:
        raise exceptions.AuthenticationFailed("The timestamp is more than 5 minutes off.")
    return timestamp


def _usable_credential(headers: dict[str, str]) -> GatewayCredential:
    credential = (
        GatewayCredential.objects.select_related("gateway", "gateway__tenant")
        .filter(key_id=headers[signing.KEY_HEADER])
        .first()
    )
    if credential is None or credential.gateway.serial != headers[signing.GATEWAY_HEADER]:
        raise exceptions.AuthenticationFailed("Unknown key for this gateway.")
    if not credential.is_usable():
        alarm_raise(
            gateway=credential.gateway,
            kind=AlarmKind.REVOKED_KEY,
            message=f"a request signed with the revoked or expired key {credential.key_id}",
        )
        raise exceptions.AuthenticationFailed("This key is revoked or expired.")
    return credential


def _consume_nonce(credential: GatewayCredential, nonce: str) -> None:
    """cache.add is atomic (SET NX on Redis): of two requests with one nonce, one wins."""
    if not cache.add(f"agent-nonce:{credential.key_id}:{nonce}", 1, timeout=NONCE_TTL_S):
        raise exceptions.AuthenticationFailed("This nonce was already used (replay).")


class IsGateway(permissions.BasePermission):
    """Only a box signed in by its key: a person, however authenticated, is refused."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.user, AuthenticatedGateway)
