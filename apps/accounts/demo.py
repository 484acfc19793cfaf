"""TOTP devices for the demo logins (`seed_demo`), so that `make demo` works with MFA on."""

from __future__ import annotations

from base64 import b32encode
from typing import Any

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.permissions import Role

DEMO_DEVICE_NAME = "demo (seed_demo)"  # demo_totp_code prints codes for these devices only


def demo_device_reset(*, user: Any) -> str | None:
    """A new TOTP secret for a demo user at each seeding, like their password; returns it in
    base32 (what an authenticator app takes). Third parties use API tokens: none for them."""
    if user.role == Role.THIRD_PARTY:
        return None
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name=DEMO_DEVICE_NAME, confirmed=True)
    return b32encode(device.bin_key).decode()


def demo_current_code(*, user: Any) -> str | None:
    device = TOTPDevice.objects.filter(user=user, name=DEMO_DEVICE_NAME, confirmed=True).first()
    if device is None:
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
