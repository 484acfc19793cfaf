"""The portal's "Your Home Energy Box" section: presence, meter pairing, owner actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.fleet import services
from apps.fleet.models import Gateway, MeterPairing
from tests.conftest import World
from tests.console.conftest import METER_ID, login, messages_of


def household_url(world: World) -> str:
    return reverse("portal:household", kwargs={"household_id": world.household.pk})


def request_url(household: object, gateway: Gateway) -> str:
    return reverse(
        "portal:pairing-request",
        kwargs={"household_id": household.pk, "gateway_id": gateway.pk},  # type: ignore[attr-defined]
    )


def end_url(household: object, pairing: MeterPairing) -> str:
    return reverse(
        "portal:pairing-end",
        kwargs={"household_id": household.pk, "pairing_id": pairing.pk},  # type: ignore[attr-defined]
    )


@pytest.fixture
def gateway(world: World) -> Gateway:
    gateway = world.gateways["ours"]
    gateway.meter_id_seen = METER_ID
    gateway.save()
    return gateway


def pairing_status(page: str) -> str:
    start = page.index('data-testid="pairing-status"')
    return " ".join(page[start : page.index("</p>", start)].split())


def test_owner_sees_the_box_unpaired_with_a_request_button(world: World, gateway: Gateway) -> None:
    page = login(world, "household_owner").get(household_url(world)).content.decode()
    assert "Your Home Energy Box" in page and gateway.serial in page
    assert "Not paired" in pairing_status(page)
    assert request_url(world.household, gateway) in page
    assert "Request pairing with my meter" in page


def test_presence(world: World, gateway: Gateway) -> None:
    owner = login(world, "household_owner")
    page = owner.get(household_url(world)).content.decode()
    assert 'class="badge off">offline<' in page and "never" in page
    Gateway.objects.filter(pk=gateway.pk).update(last_seen_at=timezone.now() - timedelta(minutes=2))
    page = owner.get(household_url(world)).content.decode()
    assert 'class="badge ok">online<' in page and "2\xa0minutes ago" in page
    Gateway.objects.filter(pk=gateway.pk).update(last_seen_at=timezone.now() - timedelta(hours=1))
    assert 'class="badge off">offline<' in owner.get(household_url(world)).content.decode()


def test_owner_requests_then_dso_approves_then_owner_unpairs(
    world: World, gateway: Gateway
) -> None:
    owner = login(world, "household_owner")
    response = owner.post(request_url(world.household, gateway), follow=True)
    pairing = gateway.pairings.get()
    assert pairing.status == "requested" and pairing.requested_by == world.users["household_owner"]
    assert "waiting for Fluvius to approve" in messages_of(response)
    page = response.content.decode()
    assert pairing_status(page).endswith("Waiting for Fluvius to approve")
    assert "Cancel the request" in page and end_url(world.household, pairing) in page

    services.pairing_approve(user=world.users["dso_staff"], pairing=pairing, meter_id=METER_ID)
    page = owner.get(household_url(world)).content.decode()
    assert pairing_status(page).endswith(f"Paired with meter {METER_ID}")
    assert "Unpair" in page

    response = owner.post(end_url(world.household, pairing), follow=True)
    pairing.refresh_from_db()
    assert pairing.status == "ended"
    assert "Not paired" in pairing_status(response.content.decode())


def test_a_rejection_is_explained(world: World, gateway: Gateway) -> None:
    pairing = services.pairing_request(user=world.users["household_owner"], gateway=gateway)
    services.pairing_reject(user=world.users["dso_staff"], pairing=pairing)
    page = login(world, "household_owner").get(household_url(world)).content.decode()
    assert "Fluvius declined the last request" in pairing_status(page)
    assert request_url(world.household, gateway) in page  # may ask again


def test_a_second_request_is_a_message_not_a_500(world: World, gateway: Gateway) -> None:
    owner = login(world, "household_owner")
    owner.post(request_url(world.household, gateway))
    response = owner.post(request_url(world.household, gateway), follow=True)
    assert response.status_code == 200
    assert "already requested or approved" in messages_of(response)
    assert gateway.pairings.count() == 1


def test_members_see_the_status_only(world: World, gateway: Gateway) -> None:
    pairing = services.pairing_request(user=world.users["household_owner"], gateway=gateway)
    member = login(world, "household_member")
    page = member.get(household_url(world)).content.decode()
    assert pairing_status(page).endswith("Waiting for Fluvius to approve")
    assert end_url(world.household, pairing) not in page
    assert member.post(end_url(world.household, pairing)).status_code == 403
    pairing.refresh_from_db()
    assert pairing.status == "requested"
    pairing.status = "ended"
    pairing.save()
    page = member.get(household_url(world)).content.decode()
    assert request_url(world.household, gateway) not in page
    assert member.post(request_url(world.household, gateway)).status_code == 403
    assert gateway.pairings.open().count() == 0


@pytest.mark.parametrize(("role", "status"), [("neighbour_owner", 404), ("abroad_owner", 404)])
def test_other_households_cannot_touch_our_box(
    world: World, gateway: Gateway, role: str, status: int
) -> None:
    pairing = services.pairing_request(user=world.users["household_owner"], gateway=gateway)
    client = login(world, role)
    assert client.post(request_url(world.household, gateway)).status_code == status
    assert client.post(end_url(world.household, pairing)).status_code == status
    pairing.refresh_from_db()
    assert pairing.status == "requested"


def test_a_foreign_gateway_or_pairing_under_our_household_is_404(world: World) -> None:
    abroad = world.gateways["abroad"]
    neighbour = world.gateways["neighbour"]
    owner = login(world, "household_owner")
    assert owner.post(request_url(world.household, abroad)).status_code == 404
    assert owner.post(request_url(world.household, neighbour)).status_code == 404
    assert not MeterPairing.objects.exists()
    foreign = services.pairing_request(user=world.users["neighbour_owner"], gateway=neighbour)
    assert owner.post(end_url(world.household, foreign)).status_code == 404
    assert owner.post(end_url(world.neighbour, foreign)).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "requested"


def test_anonymous_is_sent_to_login_and_get_is_refused(world: World, gateway: Gateway) -> None:
    url = request_url(world.household, gateway)
    response = login(world, None).post(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert login(world, "household_owner").get(url).status_code == 405
    assert not gateway.pairings.exists()


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("fr", "Votre Home Energy Box"),
        ("nl", "Uw Home Energy Box"),
        ("it", "Il tuo Home Energy Box"),
    ],
)
def test_the_box_section_is_translated(
    world: World, gateway: Gateway, language: str, heading: str
) -> None:
    owner = world.users["household_owner"]
    owner.language = language
    owner.save()
    page = login(world, "household_owner").get(household_url(world)).content.decode()
    assert heading in page
