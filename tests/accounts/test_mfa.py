"""TOTP MFA: required for staff, verified at login by whoever has a device, step-up before
load control; through the real login, enrolment and verification pages."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import AuditEvent
from apps.scheduling.models import SchedulingPreferences
from tests.accounts.conftest import code_for, device_for, password_login
from tests.conftest import World, mfa_login

pytestmark = pytest.mark.django_db

STAFF = ["platform_admin", "telco_operator", "dso_staff", "installer"]


def after_the_throttle() -> Any:
    """django-otp refuses any code for a moment after a wrong one (2^n seconds)."""
    return time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False)


def quiet_hours(world: World) -> str:
    return f"/households/{world.household.pk}/planner/quiet-hours/"


def planner(world: World) -> str:
    return f"/households/{world.household.pk}/planner/"


@pytest.mark.parametrize("role", STAFF)
def test_staff_without_a_device_are_sent_to_enrol_and_reach_nothing(
    world: World, role: str
) -> None:
    client = Client()
    response = password_login(client, world.users[role].username)
    assert response.status_code == 302
    for url in ("/console/", "/console/households/", "/admin/", "/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/mfa/enrol/")
    api = client.get("/api/v1/me/")
    assert api.status_code == 403 and "Multi-factor" in api.json()["detail"]


def test_staff_enrol_with_the_qr_code_and_then_reach_the_console(world: World) -> None:
    client = Client()
    password_login(client, "dso")
    page = client.get("/mfa/enrol/?next=/console/")
    text = page.content.decode()
    assert page.status_code == 200 and "<svg" in text
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7]+)<', text)
    assert secret is not None
    device = TOTPDevice.objects.get(user=world.users["dso_staff"], confirmed=False)
    wrong = client.post("/mfa/enrol/", {"code": "000000", "next": "/console/"})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    with after_the_throttle():
        done = client.post("/mfa/enrol/", {"code": code_for(device), "next": "/console/"})
    assert done.status_code == 302 and done["Location"] == "/console/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/console/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.MFA_ENROLLED, username="dso").exists()


def test_staff_with_a_device_verify_after_the_password(world: World) -> None:
    device = device_for(world.users["platform_admin"])
    client = Client()
    password_login(client, "admin")
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/")
    assert client.post("/mfa/verify/", {"code": "123456", "next": "/admin/"}).status_code == 400
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.MFA_FAILED, username="admin").exists()
    with after_the_throttle():
        response = client.post("/mfa/verify/", {"code": code_for(device), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/console/").status_code == 200


def test_the_verification_page_does_not_redirect_elsewhere(world: World) -> None:
    device = device_for(world.users["dso_staff"])
    client = Client()
    password_login(client, "dso")
    response = client.post("/mfa/verify/", {"code": code_for(device), "next": "https://evil.test/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_household_without_a_device_browses_but_must_enrol_to_control(world: World) -> None:
    client = Client()
    password_login(client, "owner")
    assert client.get(planner(world)).status_code == 200
    response = client.post(
        quiet_hours(world), {"quiet_start": "22:00", "quiet_end": "07:00"},
        HTTP_REFERER="http://testserver" + planner(world),
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"].startswith("/mfa/enrol/")
    assert "next=http%3A%2F%2Ftestserver%2Fhouseholds" in response["Location"]
    assert not SchedulingPreferences.objects.filter(household=world.household).exists()


def test_a_household_with_a_device_verifies_at_login(world: World) -> None:
    device = device_for(world.users["household_owner"])
    client = Client()
    password_login(client, "owner")
    response = client.get(planner(world))
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/")
    client.post("/mfa/verify/", {"code": code_for(device), "next": planner(world)})
    assert client.get(planner(world)).status_code == 200
    saved = client.post(quiet_hours(world), {"quiet_start": "22:00", "quiet_end": "07:00"})
    assert saved.status_code == 302 and saved["Location"] == planner(world)


def test_load_control_asks_again_after_the_step_up_window(world: World) -> None:
    owner = world.users["household_owner"]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = mfa_login(Client(), owner)
    device = TOTPDevice.objects.get(user=owner)
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        assert client.get(planner(world)).status_code == 200  # reading needs no step-up
        response = client.post(quiet_hours(world), {"quiet_start": "22:00", "quiet_end": "07:00"})
        assert response.status_code == 302
        assert (
            response["Location"].startswith("/mfa/verify/") and "step_up=1" in response["Location"]
        )
        assert not SchedulingPreferences.objects.filter(household=world.household).exists()
        assert client.post("/mfa/verify/", {"code": code_for(device)}).status_code == 302
        response = client.post(quiet_hours(world), {"quiet_start": "22:00", "quiet_end": "07:00"})
        assert response["Location"] == planner(world)
    assert SchedulingPreferences.objects.get(household=world.household).quiet_start is not None


@pytest.mark.parametrize(
    "path",
    ["planner/", "plans/{plan}/cancel/", "plans/{plan}/start-now/", "planner/quiet-hours/",
     "planner/devices/{device}/rule/", "planner/devices/{device}/rule/delete/"],
)  # fmt: skip
def test_every_load_control_view_needs_the_step_up(world: World, path: str) -> None:
    client = Client()
    client.force_login(world.users["household_owner"])  # password only, no device
    url = f"/households/{world.household.pk}/" + path.format(
        plan="00000000-0000-0000-0000-000000000000", device=world.devices["ours"].pk
    )
    response = client.post(url, {})
    assert response.status_code == 302 and response["Location"].startswith("/mfa/enrol/")


def test_a_wrong_code_is_throttled(world: World, settings: Any) -> None:
    device = device_for(world.users["dso_staff"])
    client = Client()
    password_login(client, "dso")
    for _ in range(3):
        client.post("/mfa/verify/", {"code": "000000"})
    response = client.post("/mfa/verify/", {"code": code_for(device)})
    assert response.status_code == 400 and "Too many wrong codes" in response.content.decode()


def test_the_api_step_up_permission_for_control_endpoints(world: World) -> None:
    """For API endpoints that control devices (none yet in /api/v1): reads pass, writes need
    a session verified within the window, and tokens never control."""
    from types import SimpleNamespace

    from apps.accounts.api.permissions import StepUpVerified
    from apps.accounts.models import ApiToken

    owner = world.users["household_owner"]
    session = mfa_login(Client(), owner).session
    permission = StepUpVerified()

    def allowed(method: str, *, verified: bool, auth: Any = None) -> bool:
        user = SimpleNamespace(is_verified=lambda: verified)
        django_request = SimpleNamespace(session=session if verified else {}, user=user)
        request = SimpleNamespace(method=method, auth=auth, _request=django_request)
        return permission.has_permission(request, view=None)  # type: ignore[arg-type]

    assert allowed("GET", verified=False)
    assert not allowed("POST", verified=False)
    assert allowed("POST", verified=True)
    assert not allowed("POST", verified=True, auth=ApiToken())
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert not allowed("POST", verified=True)
