"""The staff audit log: every state-changing staff request, sign-in events; read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.models import AuditEvent
from tests.accounts.conftest import password_login
from tests.conftest import World, mfa_login

pytestmark = pytest.mark.django_db


def test_a_staff_post_is_recorded_with_view_object_status_and_address(world: World) -> None:
    client = mfa_login(Client(), world.users["dso_staff"])
    url = f"/console/households/{world.household.pk}/installers/"
    response = client.post(url, {"installer": "nobody"}, REMOTE_ADDR="192.0.2.7")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.REQUEST)
    assert event.actor == world.users["dso_staff"] and event.username == "dso"
    assert event.role == "dso_staff" and event.tenant == world.home_tenant
    assert event.action == "console:installer-assign"
    assert (event.object_type, event.object_id) == ("household", str(world.household.pk))
    assert event.status == response.status_code and str(event.ip) == "192.0.2.7"
    assert event.details["method"] == "POST"


def test_reads_and_household_requests_are_not_staff_actions(world: World) -> None:
    mfa_login(Client(), world.users["dso_staff"]).get("/console/")
    owner = mfa_login(Client(), world.users["household_owner"])
    owner.post(
        f"/households/{world.household.pk}/planner/quiet-hours/",
        {"quiet_start": "22:00", "quiet_end": "07:00"},
    )
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.REQUEST).exists()


def test_logins_logouts_and_failures_are_recorded(world: World) -> None:
    client = Client()
    password_login(client, "owner", "wrong")
    password_login(client, "owner")
    client.post("/logout/")
    kinds = list(AuditEvent.objects.filter(username="owner").values_list("kind", flat=True))
    assert sorted(kinds) == ["login", "login_failed", "logout"]


def test_platform_admins_read_the_log_in_the_admin_and_console_read_only(world: World) -> None:
    password_login(Client(), "owner", "wrong")
    event = AuditEvent.objects.get()
    admin = mfa_login(Client(), world.users["platform_admin"])
    assert admin.get("/admin/accounts/auditevent/").status_code == 200
    assert admin.get("/admin/accounts/auditevent/add/").status_code == 403
    change = admin.post(f"/admin/accounts/auditevent/{event.pk}/change/", {"username": "x"})
    assert change.status_code in (302, 403)
    event.refresh_from_db()
    assert event.username == "owner"
    assert admin.post(f"/admin/accounts/auditevent/{event.pk}/delete/").status_code == 403
    page = admin.get("/console/audit/")
    assert page.status_code == 200 and "owner" in page.content.decode()
    assert mfa_login(Client(), world.users["dso_staff"]).get("/console/audit/").status_code == 403
