"""The console's gateway page: status, keys, pairing history, alarms, commands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.fleet import secrets
from apps.fleet.models import Gateway, GatewayAlarm, GatewayCommand
from tests.conftest import World
from tests.console.conftest import METER_ID, Box, login, messages_of


def page_url(gateway: Gateway) -> str:
    return reverse("console:gateway", kwargs={"gateway_id": gateway.pk})


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("platform_admin", 200),
        ("telco_operator", 200),
        ("dso_staff", 200),
        ("installer", 200),  # assigned to our household
        ("household_owner", 403),
        ("household_member", 403),
        ("third_party", 403),
        (None, 302),
    ],
)
def test_our_gateway_page_per_role(world: World, box: Box, role: str | None, status: int) -> None:
    assert login(world, role).get(page_url(box.gateway)).status_code == status


@pytest.mark.parametrize(
    ("role", "key", "status"),
    [
        ("dso_staff", "abroad", 404),
        ("installer", "abroad", 404),
        ("installer", "neighbour", 404),  # same tenant, not assigned
        ("dso_staff", "neighbour", 200),
        ("telco_operator", "abroad", 200),
        ("platform_admin", "abroad", 200),
    ],
)
def test_gateways_outside_the_scope_are_404(world: World, role: str, key: str, status: int) -> None:
    assert login(world, role).get(page_url(world.gateways[key])).status_code == status


def test_the_fleet_list_links_to_the_page(world: World, box: Box) -> None:
    page = login(world, "dso_staff").get(reverse("console:gateways")).content.decode()
    assert page_url(box.gateway) in page
    assert page_url(world.gateways["abroad"]) not in page


def test_the_page_shows_the_box_and_its_link(
    world: World, box: Box, alarm: GatewayAlarm, command: GatewayCommand
) -> None:
    response = login(world, "dso_staff").get(page_url(box.gateway))
    page = response.content.decode()
    for text in (
        "HEB-BE-90001",
        world.home_tenant.name,
        world.household.name,
        "2.1.0",
        "3G",
        "-85 dBm",
        "240 ms",
        METER_ID,
        box.credential.key_id,
        "Readings from meter 9XYZ",
        "Readings from an unpaired meter",
        "Received by the box",
        world.devices["ours"].name,
    ):
        assert text in page, text
    assert '"presence">online<' in page
    assert response.context["gateway"].outbox_depth == 7


@pytest.mark.parametrize("last_seen", [None, timedelta(minutes=16), timedelta(days=3)])
def test_a_silent_box_is_offline(world: World, box: Box, last_seen: timedelta | None) -> None:
    seen_at = None if last_seen is None else timezone.now() - last_seen
    Gateway.objects.filter(pk=box.gateway.pk).update(last_seen_at=seen_at)
    page = login(world, "telco_operator").get(page_url(box.gateway)).content.decode()
    assert '"presence">offline<' in page


def test_the_secret_never_appears(world: World, box: Box, requested: None) -> None:
    rotate = reverse("console:gateway-key-rotate", kwargs={"gateway_id": box.gateway.pk})
    dso = login(world, "dso_staff")
    dso.post(rotate)
    secrets_held = [box.secret]
    for credential in box.gateway.credentials.all():
        secrets_held += [credential.secret_encrypted, secrets.decrypt(credential.secret_encrypted)]
    assert len(secrets_held) == 5
    for role in ("platform_admin", "telco_operator", "dso_staff", "installer"):
        client = login(world, role)
        for url in (
            page_url(box.gateway),
            reverse("console:gateways"),
            reverse("console:household", kwargs={"household_id": world.household.pk}),
            reverse("console:home"),
        ):
            page = client.get(url).content.decode()
            for secret in secrets_held:
                assert secret not in page, (role, url)
    owner_page = login(world, "household_owner").get(
        reverse("portal:household", kwargs={"household_id": world.household.pk})
    )
    for secret in secrets_held:
        assert secret not in owner_page.content.decode()


# Keys -----------------------------------------------------------------------------------


def rotate_url(box: Box) -> str:
    return reverse("console:gateway-key-rotate", kwargs={"gateway_id": box.gateway.pk})


def revoke_url(gateway: Gateway, credential_id: object) -> str:
    return reverse(
        "console:gateway-key-revoke",
        kwargs={"gateway_id": gateway.pk, "credential_id": credential_id},
    )


@pytest.mark.parametrize("role", ["platform_admin", "telco_operator", "dso_staff"])
def test_key_managers_rotate(world: World, box: Box, role: str) -> None:
    response = login(world, role).post(rotate_url(box), follow=True)
    assert response.redirect_chain[-1] == (page_url(box.gateway), 302)
    credentials = list(box.gateway.credentials.all())
    assert len(credentials) == 2
    new = next(c for c in credentials if c.pk != box.credential.pk)
    assert new.delivered_at is None and new.revoked_at is None
    old = next(c for c in credentials if c.pk == box.credential.pk)
    assert old.valid_until is not None  # the overlap
    assert new.key_id in messages_of(response)


@pytest.mark.parametrize(
    ("role", "status"),
    [("installer", 403), ("household_owner", 403), ("third_party", 403), (None, 302)],
)
def test_others_cannot_rotate(world: World, box: Box, role: str | None, status: int) -> None:
    assert login(world, role).post(rotate_url(box)).status_code == status
    assert box.gateway.credentials.count() == 1


def test_rotate_and_revoke_are_post_only(world: World, box: Box) -> None:
    dso = login(world, "dso_staff")
    assert dso.get(rotate_url(box)).status_code == 405
    assert dso.get(revoke_url(box.gateway, box.credential.pk)).status_code == 405
    assert box.gateway.credentials.count() == 1


def test_a_foreign_gateway_cannot_be_rotated(world: World) -> None:
    url = reverse("console:gateway-key-rotate", kwargs={"gateway_id": world.gateways["abroad"].pk})
    assert login(world, "dso_staff").post(url).status_code == 404


def test_dso_staff_revoke_a_key(world: World, box: Box) -> None:
    response = login(world, "dso_staff").post(
        revoke_url(box.gateway, box.credential.pk), follow=True
    )
    box.credential.refresh_from_db()
    assert box.credential.revoked_at is not None
    text = messages_of(response)
    assert box.credential.key_id in text and "no usable key left" in text


def test_installers_cannot_revoke(world: World, box: Box) -> None:
    response = login(world, "installer").post(revoke_url(box.gateway, box.credential.pk))
    assert response.status_code == 403
    box.credential.refresh_from_db()
    assert box.credential.revoked_at is None


def test_a_key_is_revoked_only_through_its_own_gateway(world: World, box: Box) -> None:
    other = world.gateways["neighbour"]
    response = login(world, "dso_staff").post(revoke_url(other, box.credential.pk))
    assert response.status_code == 404
    abroad = login(world, "dso_staff").post(revoke_url(world.gateways["abroad"], box.credential.pk))
    assert abroad.status_code == 404
    box.credential.refresh_from_db()
    assert box.credential.revoked_at is None


def test_key_buttons_only_for_key_managers(world: World, box: Box) -> None:
    dso_page = login(world, "dso_staff").get(page_url(box.gateway)).content.decode()
    assert rotate_url(box) in dso_page and revoke_url(box.gateway, box.credential.pk) in dso_page
    installer_page = login(world, "installer").get(page_url(box.gateway)).content.decode()
    assert box.credential.key_id in installer_page  # the table, without the buttons
    assert rotate_url(box) not in installer_page
    assert revoke_url(box.gateway, box.credential.pk) not in installer_page


# Alarms ---------------------------------------------------------------------------------


def ack_url(alarm: GatewayAlarm) -> str:
    return reverse("console:alarm-acknowledge", kwargs={"alarm_id": alarm.pk})


def test_dso_staff_acknowledge_an_alarm(world: World, box: Box, alarm: GatewayAlarm) -> None:
    response = login(world, "dso_staff").post(ack_url(alarm), {"next": page_url(box.gateway)})
    assert response.status_code == 302 and response["Location"] == page_url(box.gateway)
    alarm.refresh_from_db()
    assert alarm.acknowledged_at is not None
    page = login(world, "dso_staff").get(page_url(box.gateway)).content.decode()
    assert "Readings from meter 9XYZ" not in page and "No open alarms." in page


@pytest.mark.parametrize(("role", "status"), [("installer", 403), ("household_owner", 403)])
def test_others_cannot_acknowledge(
    world: World, alarm: GatewayAlarm, role: str, status: int
) -> None:
    assert login(world, role).post(ack_url(alarm)).status_code == status
    alarm.refresh_from_db()
    assert alarm.acknowledged_at is None


def test_a_foreign_alarm_is_404(world: World, abroad_alarm: GatewayAlarm) -> None:
    assert login(world, "dso_staff").post(ack_url(abroad_alarm)).status_code == 404
    assert login(world, "installer").post(ack_url(abroad_alarm)).status_code == 404
    abroad_alarm.refresh_from_db()
    assert abroad_alarm.acknowledged_at is None


def test_next_must_be_a_local_url(world: World, box: Box, alarm: GatewayAlarm) -> None:
    response = login(world, "dso_staff").post(ack_url(alarm), {"next": "https://evil.example/"})
    assert response["Location"] == page_url(box.gateway)


def test_csrf_is_enforced(world: World, box: Box) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["dso_staff"])
    assert client.post(rotate_url(box)).status_code == 403
    assert box.gateway.credentials.count() == 1


def test_the_page_renders_in_french(world: World, box: Box) -> None:
    dso = world.users["dso_staff"]
    dso.language = "fr"
    dso.save()
    response = login(world, "dso_staff").get(page_url(box.gateway))
    page = response.content.decode()
    assert response["Content-Language"] == "fr"
    assert "Clés" in page and "Appairage du compteur" in page and "en ligne" in page
