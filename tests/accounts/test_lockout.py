"""Login lockout (django-axes) on the real login pages: clear 429 page, settings, reset."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone

from apps.accounts.models import AuditEvent
from tests.accounts.conftest import password_login
from tests.conftest import World

pytestmark = pytest.mark.django_db


def fail(client: Client, username: str, times: int) -> None:
    for _ in range(times):
        response = password_login(client, username, "wrong password")
        assert response.status_code == 200  # the form again, with its error


def test_five_wrong_passwords_lock_the_account_with_a_clear_page(world: World) -> None:
    client = Client()
    fail(client, "owner", 4)
    response = password_login(client, "owner", "wrong password")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many attempts" in page and "paused for 15 minutes" in page
    # Locked: even the right password is refused now, with the same page, not a 500.
    response = password_login(client, "owner")
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOCKED_OUT, username="owner").exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN_FAILED, username="owner").count()


def test_the_lock_ends_after_the_cool_off(world: World) -> None:
    client = Client()
    fail(client, "owner", 4)
    assert password_login(client, "owner", "wrong password").status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = password_login(client, "owner")
        assert response.status_code == 302 and client.session["_auth_user_id"]


def test_a_success_resets_the_count(world: World) -> None:
    client = Client()
    fail(client, "owner", 4)
    assert password_login(client, "owner").status_code == 302
    client.logout()
    fail(client, "owner", 4)  # four more: not five in a row, so not locked
    assert password_login(client, "owner").status_code == 302


@override_settings(AXES_FAILURE_LIMIT=2, AXES_COOLOFF_TIME=timedelta(minutes=3))
def test_limit_and_cool_off_come_from_settings(world: World) -> None:
    client = Client()
    fail(client, "owner", 1)
    response = password_login(client, "owner", "wrong password")
    assert response.status_code == 429 and "paused for 3 minutes" in response.content.decode()


def test_many_usernames_from_one_address_are_locked_too(world: World) -> None:
    client = Client()
    for name in ("owner", "member", "dso", "installer"):
        fail(client, name, 1)
    assert password_login(client, "operator", "wrong password").status_code == 429


def test_the_admin_login_is_locked_the_same_way(world: World) -> None:
    client = Client()
    for _ in range(4):
        client.post("/admin/login/", {"username": "admin", "password": "nope"})
    response = client.post("/admin/login/", {"username": "admin", "password": "nope"})
    assert response.status_code == 429 and "Too many attempts" in response.content.decode()
