"""Gateway secrets at rest: Fernet-encrypted, so a database dump holds no usable key.

GATEWAY_SECRET_KEYS lists Fernet keys, newest first (MultiFernet: add a new key in
front, re-encrypt, then drop the old one). Without it a key is derived from
SECRET_KEY, so changing SECRET_KEY without setting GATEWAY_SECRET_KEYS would make
stored gateway keys unreadable: production should set it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

SECRET_BYTES = 32


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.GATEWAY_SECRET_KEYS)
    if not keys:
        derived = hashlib.sha256(b"heb-gateway-secrets:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def new_secret() -> str:
    """A fresh gateway secret, urlsafe base64 of 32 random bytes (what the box stores)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_bytes(secret: str) -> bytes:
    return base64.urlsafe_b64decode(secret)


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def hash_claim_code(code: str) -> str:
    """Claim codes are printed on the box; we keep only their hash."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()
