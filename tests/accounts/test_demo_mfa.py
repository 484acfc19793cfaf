"""`make demo` with MFA on: every demo login gets a TOTP secret, printed with its password."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db


def test_demo_staff_log_in_with_the_printed_secret_and_code(tmp_path: Path) -> None:
    logins = tmp_path / "logins"
    call_command("seed_demo", seed=1, logins_file=str(logins), stdout=StringIO())
    text = logins.read_text()
    row = next(line.split() for line in text.splitlines() if line.startswith("dso_be "))
    username, password, secret = row[0], row[1], row[-1]
    assert len(secret) == 32 and "demo_totp_code" in text
    device = TOTPDevice.objects.get(user__username="dso_be", confirmed=True)
    assert device.config_url.split("secret=")[1].startswith(secret)
    assert not TOTPDevice.objects.filter(user__username="thirdparty").exists()

    client = Client()
    client.post("/login/", {"username": username, "password": password})
    assert client.get("/console/")["Location"].startswith("/mfa/verify/")
    out = StringIO()
    call_command("demo_totp_code", username, stdout=out)
    assert client.post("/mfa/verify/", {"code": out.getvalue().strip()}).status_code == 302
    assert client.get("/console/").status_code == 200
