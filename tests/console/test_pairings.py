"""Meter pairing in the console: the DSO's queue, approve, reject, unpair, request."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.fleet.models import GatewayAlarm, MeterPairing
from tests.conftest import World
from tests.console.conftest import METER_ID, Box, login, messages_of

QUEUE = reverse("console:pairings")


def approve_url(pairing: MeterPairing) -> str:
    return reverse("console:pairing-approve", kwargs={"pairing_id": pairing.pk})


def reject_url(pairing: MeterPairing) -> str:
    return reverse("console:pairing-reject", kwargs={"pairing_id": pairing.pk})


def end_url(pairing: MeterPairing) -> str:
    return reverse("console:pairing-end", kwargs={"pairing_id": pairing.pk})


def gateway_url(pairing: MeterPairing) -> str:
    return reverse("console:gateway", kwargs={"gateway_id": pairing.gateway_id})


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("platform_admin", 200),
        ("dso_staff", 200),
        ("telco_operator", 403),  # runs the fleet, does not decide on the DSO's meters
        ("installer", 403),
        ("household_owner", 403),
        ("household_member", 403),
        ("third_party", 403),
        (None, 302),
    ],
)
def test_queue_per_role(world: World, role: str | None, status: int) -> None:
    assert login(world, role).get(QUEUE).status_code == status


def test_the_queue_lists_requests_in_scope_only(
    world: World, requested: MeterPairing, abroad_pairing: MeterPairing
) -> None:
    page = login(world, "dso_staff").get(QUEUE).content.decode()
    assert requested.gateway.serial in page and world.household.name in page
    assert abroad_pairing.gateway.serial not in page and "Abroad" not in page
    assert f'value="{METER_ID}"' in page  # pre-filled with the meter the box reads
    admin_page = login(world, "platform_admin").get(QUEUE).content.decode()
    assert requested.gateway.serial in admin_page and abroad_pairing.gateway.serial in admin_page


def test_the_queue_flags_a_meter_other_than_the_one_the_box_reads(world: World, box: Box) -> None:
    login(world, "installer").post(
        reverse("console:pairing-request", kwargs={"gateway_id": box.gateway.pk}),
        {"meter_id": "1SAG0000000001"},
    )
    page = login(world, "dso_staff").get(QUEUE).content.decode()
    assert 'data-testid="meter-mismatch">requested for 1SAG0000000001<' in page
    assert f"the box reads {METER_ID}" in page


def test_decided_pairings_leave_the_queue(world: World, requested: MeterPairing) -> None:
    dso = login(world, "dso_staff")
    dso.post(reject_url(requested))
    assert "No pairing is waiting for a decision." in dso.get(QUEUE).content.decode()


@pytest.mark.parametrize("next_url", [QUEUE, None])
def test_dso_staff_approve(world: World, requested: MeterPairing, next_url: str | None) -> None:
    data = {"meter_id": " 1SAG1100099999 "}
    if next_url:
        data["next"] = next_url
    response = login(world, "dso_staff").post(approve_url(requested), data)
    assert response.status_code == 302
    assert response["Location"] == (next_url or gateway_url(requested))
    requested.refresh_from_db()
    assert requested.status == "approved" and requested.meter_id == "1SAG1100099999"
    assert requested.decided_by == world.users["dso_staff"]


def test_approving_without_a_meter_id_shows_an_error(world: World, requested: MeterPairing) -> None:
    response = login(world, "dso_staff").post(
        approve_url(requested), {"meter_id": "  ", "next": QUEUE}, follow=True
    )
    assert response.status_code == 200
    assert "Give the meter&#x27;s equipment id." in response.content.decode()
    requested.refresh_from_db()
    assert requested.status == "requested"


def test_approving_twice_shows_an_error(world: World, requested: MeterPairing) -> None:
    dso = login(world, "dso_staff")
    dso.post(approve_url(requested), {"meter_id": METER_ID})
    response = dso.post(approve_url(requested), {"meter_id": "other"}, follow=True)
    assert response.status_code == 200
    assert "Only a requested pairing can be approved." in messages_of(response)
    requested.refresh_from_db()
    assert requested.meter_id == METER_ID


def test_dso_staff_reject(world: World, requested: MeterPairing) -> None:
    response = login(world, "dso_staff").post(reject_url(requested))
    assert response.status_code == 302
    requested.refresh_from_db()
    assert requested.status == "rejected"


@pytest.mark.parametrize(
    ("role", "status"),
    [("telco_operator", 403), ("installer", 403), ("household_owner", 403), (None, 302)],
)
def test_others_cannot_decide(
    world: World, requested: MeterPairing, role: str | None, status: int
) -> None:
    client = login(world, role)
    assert client.post(approve_url(requested), {"meter_id": METER_ID}).status_code == status
    assert client.post(reject_url(requested)).status_code == status
    requested.refresh_from_db()
    assert requested.status == "requested"


def test_a_foreign_pairing_is_404(world: World, abroad_pairing: MeterPairing) -> None:
    for role in ("dso_staff", "installer"):
        client = login(world, role)
        assert client.post(approve_url(abroad_pairing), {"meter_id": "x"}).status_code == 404
        assert client.post(reject_url(abroad_pairing)).status_code == 404
        assert client.post(end_url(abroad_pairing)).status_code == 404
    abroad_pairing.refresh_from_db()
    assert abroad_pairing.status == "requested"


def test_decisions_are_post_only(world: World, requested: MeterPairing) -> None:
    dso = login(world, "dso_staff")
    for url in (approve_url(requested), reject_url(requested), end_url(requested)):
        assert dso.get(url).status_code == 405


def test_the_gateway_page_offers_approval(world: World, requested: MeterPairing) -> None:
    page = login(world, "dso_staff").get(gateway_url(requested)).content.decode()
    assert approve_url(requested) in page and reject_url(requested) in page
    assert f'value="{METER_ID}"' in page
    installer_page = login(world, "installer").get(gateway_url(requested)).content.decode()
    assert approve_url(requested) not in installer_page
    assert end_url(requested) in installer_page  # the installer may cancel it


@pytest.mark.parametrize("role", ["dso_staff", "installer", "telco_operator"])
def test_unpair_from_the_console(world: World, requested: MeterPairing, role: str) -> None:
    login(world, "dso_staff").post(approve_url(requested), {"meter_id": METER_ID})
    response = login(world, role).post(end_url(requested))
    assert response.status_code == 302
    requested.refresh_from_db()
    assert requested.status == "ended" and requested.ended_at is not None


def test_console_home_counts(
    world: World,
    requested: MeterPairing,
    abroad_pairing: MeterPairing,
    alarm: GatewayAlarm,
    abroad_alarm: GatewayAlarm,
) -> None:
    dso = login(world, "dso_staff").get(reverse("console:home"))
    assert dso.context["pending_pairing_count"] == 1 and dso.context["open_alarm_count"] == 1
    assert QUEUE in dso.content.decode()
    admin = login(world, "platform_admin").get(reverse("console:home"))
    assert admin.context["pending_pairing_count"] == 2 and admin.context["open_alarm_count"] == 2
    operator = login(world, "telco_operator").get(reverse("console:home"))
    assert operator.context["open_alarm_count"] == 2
    assert QUEUE not in operator.content.decode()
    installer = login(world, "installer").get(reverse("console:home"))
    assert installer.context["open_alarm_count"] == 1


# Requesting a pairing from the console ------------------------------------------------------


def request_url(box: Box) -> str:
    return reverse("console:pairing-request", kwargs={"gateway_id": box.gateway.pk})


@pytest.mark.parametrize("role", ["installer", "dso_staff", "telco_operator", "platform_admin"])
def test_staff_request_a_pairing(world: World, box: Box, role: str) -> None:
    response = login(world, role).post(request_url(box), {"meter_id": ""}, follow=True)
    pairing = box.gateway.pairings.get()
    assert pairing.status == "requested" and pairing.meter_id == METER_ID
    assert pairing.requested_by == world.users[role]
    assert "waiting for Fluvius to approve" in messages_of(response)


def test_a_second_request_is_refused_with_a_message(world: World, box: Box) -> None:
    installer = login(world, "installer")
    installer.post(request_url(box), {"meter_id": "M-1"})
    response = installer.post(request_url(box), {"meter_id": "M-2"}, follow=True)
    assert response.status_code == 200
    assert "already requested or approved" in messages_of(response)
    assert box.gateway.pairings.count() == 1


def test_auto_approval_is_reported(world: World, box: Box) -> None:
    world.home_tenant.pairing_auto_approve = True
    world.home_tenant.save()
    response = login(world, "installer").post(request_url(box), follow=True)
    assert box.gateway.pairings.get().status == "approved"
    assert "approved automatically" in messages_of(response)


def test_requesting_for_a_foreign_gateway_is_404(world: World) -> None:
    for key in ("abroad", "neighbour"):
        url = reverse("console:pairing-request", kwargs={"gateway_id": world.gateways[key].pk})
        assert login(world, "installer").post(url).status_code == 404
    assert not MeterPairing.objects.exists()


def test_household_roles_cannot_use_the_console_request(world: World, box: Box) -> None:
    assert login(world, "household_owner").post(request_url(box)).status_code == 403
    assert not box.gateway.pairings.exists()


def test_a_too_long_meter_id_is_an_error_not_a_500(world: World, box: Box) -> None:
    response = login(world, "installer").post(request_url(box), {"meter_id": "9" * 80}, follow=True)
    assert response.status_code == 200
    assert "at most 64 characters" in messages_of(response)
    assert not box.gateway.pairings.exists()
