"""Request signing for the agent API: HMAC-SHA256 over method, path, timestamp, nonce and body.

Hand-written on the standard library because the scheme is five lines and the box must
not pull an HTTP-signature library for it; the server verifies with the same functions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

MAX_CLOCK_SKEW_S = 300  # a timestamp further than this from the server's clock is refused

GATEWAY_HEADER = "X-HEB-Gateway"
KEY_HEADER = "X-HEB-Key-Id"
TIMESTAMP_HEADER = "X-HEB-Timestamp"
NONCE_HEADER = "X-HEB-Nonce"
SIGNATURE_HEADER = "X-HEB-Signature"


def canonical_request(method: str, path: str, timestamp: int, nonce: str, body: bytes) -> bytes:
    """The bytes that are signed. `path` includes the query string, if any."""
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join((method.upper(), path, str(timestamp), nonce, body_hash)).encode()


def signature(
    secret: bytes, method: str, path: str, timestamp: int, nonce: str, body: bytes
) -> str:
    message = canonical_request(method, path, timestamp, nonce, body)
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def signature_matches(
    secret: bytes, presented: str, method: str, path: str, timestamp: int, nonce: str, body: bytes
) -> bool:
    expected = signature(secret, method, path, timestamp, nonce, body)
    return hmac.compare_digest(expected, presented)


def new_nonce() -> str:
    return secrets.token_hex(16)


def signed_headers(
    *,
    serial: str,
    key_id: str,
    secret: bytes,
    method: str,
    path: str,
    body: bytes,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    nonce = nonce or new_nonce()
    return {
        GATEWAY_HEADER: serial,
        KEY_HEADER: key_id,
        TIMESTAMP_HEADER: str(timestamp),
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature(secret, method, path, timestamp, nonce, body),
    }
