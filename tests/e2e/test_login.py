"""Logging in through a real browser against the live server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.accounts.conftest import code_for, device_for
from tests.conftest import PASSWORD, World

# The live server runs in another thread, so the test data must be committed: transaction=True.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(
    page: Page, live_server: Any, username: str, password: str = PASSWORD, totp: Any = None
) -> None:
    """The login page, then (for a user with a TOTP device) the verification code."""
    page.goto(live_server.url + "/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Log in").click()
    if totp is not None:
        expect(page.get_by_test_id("mfa-verify")).to_be_visible()
        page.get_by_label("Code from your authenticator app").fill(code_for(totp))
        page.get_by_role("button", name="Verify").click()


def test_owner_logs_in_and_sees_their_household(
    page: Page, live_server: Any, transactional_db: None, world: World, tmp_path: Path
) -> None:
    log_in(page, live_server, world.users["household_owner"].username)

    expect(page).to_have_url(f"{live_server.url}/households/{world.household.pk}/")
    expect(page.get_by_test_id("household-name")).to_have_text("Our home")
    devices = page.get_by_role("table")
    expect(devices.get_by_role("cell", name=world.devices["ours"].name, exact=True)).to_be_visible()
    expect(devices).not_to_contain_text(world.devices["neighbour"].name)
    expect(page.get_by_test_id("username")).to_have_text("owner")

    screenshot = tmp_path / "household.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 0


def test_another_households_user_gets_404(
    page: Page, live_server: Any, transactional_db: None, world: World
) -> None:
    log_in(page, live_server, world.users["neighbour_owner"].username)
    expect(page).to_have_url(f"{live_server.url}/households/{world.neighbour.pk}/")
    expect(page.get_by_test_id("household-name")).to_have_text("Neighbour")
    expect(page.locator("body")).not_to_contain_text("Our home")

    response = page.goto(f"{live_server.url}/households/{world.household.pk}/")
    assert response is not None and response.status == 404
    expect(page.locator("body")).not_to_contain_text("Our home")

    response = page.goto(live_server.url + "/")  # their own home: redirected to their household
    assert response is not None and response.status == 200
    expect(page).to_have_url(f"{live_server.url}/households/{world.neighbour.pk}/")
    expect(page.locator("body")).not_to_contain_text("Our home")


def test_wrong_password_shows_an_error_and_stays_on_login(
    page: Page, live_server: Any, transactional_db: None, world: World
) -> None:
    log_in(page, live_server, world.users["household_owner"].username, password="wrong password")

    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/login/(\?.*)?$"))
    expect(page.get_by_test_id("username")).to_have_count(0)


def test_staff_give_a_totp_code_after_the_password(
    page: Page, live_server: Any, transactional_db: None, world: World
) -> None:
    device = device_for(world.users["dso_staff"])
    log_in(page, live_server, "dso", totp=device)
    expect(page.get_by_test_id("username")).to_have_text("dso")
    response = page.goto(live_server.url + "/console/")
    assert response is not None and response.status == 200


def test_staff_without_a_device_enrol_with_the_qr_code(
    page: Page, live_server: Any, transactional_db: None, world: World
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    log_in(page, live_server, "installer")
    expect(page.get_by_test_id("mfa-enrol")).to_be_visible()
    expect(page.get_by_test_id("mfa-qr").locator("svg")).to_be_visible()
    device = TOTPDevice.objects.get(user=world.users["installer"], confirmed=False)
    page.get_by_label("Code from your authenticator app").fill(code_for(device))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("username")).to_have_text("installer")
    response = page.goto(live_server.url + "/console/")
    assert response is not None and response.status == 200
