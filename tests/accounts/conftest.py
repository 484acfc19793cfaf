"""Helpers for the hardening tests: TOTP codes as an authenticator app would show them."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD


def code_for(device: TOTPDevice) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def device_for(user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def password_login(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    """The real login page, as a browser posts it."""
    return client.post("/login/", {"username": username, "password": password}, **extra)
