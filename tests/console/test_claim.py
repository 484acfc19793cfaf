"""Claiming a box for a household from the console."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.fleet import services
from apps.fleet.models import Gateway
from tests.conftest import World
from tests.console.conftest import CLAIM_CODE, login, messages_of

SERIAL = "HEB-BE-S0001"


@pytest.fixture
def spare(world: World) -> Gateway:
    return services.gateway_register(tenant=world.home_tenant, serial=SERIAL, claim_code=CLAIM_CODE)


def claim_url(household: object) -> str:
    return reverse("console:gateway-claim", kwargs={"household_id": household.pk})  # type: ignore[attr-defined]


def household_url(household: object) -> str:
    return reverse("console:household", kwargs={"household_id": household.pk})  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", ["installer", "platform_admin", "dso_staff", "telco_operator"])
def test_claim_a_box(world: World, spare: Gateway, role: str) -> None:
    client = login(world, role)
    response = client.post(
        claim_url(world.household), {"serial": f" {SERIAL} ", "claim_code": "abcd2345efgh"}
    )
    assert response.status_code == 302 and response["Location"] == household_url(world.household)
    spare.refresh_from_db()
    assert spare.household == world.household and spare.claimed_by == world.users[role]
    assert spare.credentials.filter(delivered_at__isnull=True).count() == 1
    page = client.get(household_url(world.household))
    assert f"Claimed {SERIAL}: the box fetches its key within 24 hours." in messages_of(page)


def test_the_claim_form_is_shown_to_those_who_may_claim(world: World) -> None:
    url = household_url(world.household)
    assert claim_url(world.household) in login(world, "installer").get(url).content.decode()
    assert claim_url(world.household) in login(world, "dso_staff").get(url).content.decode()


@pytest.mark.parametrize(
    ("serial", "code", "error"),
    [
        (SERIAL, "WRONGCODE234", "Unknown serial or wrong claim code."),
        ("HEB-XX-99999", CLAIM_CODE, "Unknown serial or wrong claim code."),
        ("", "", "This field is required."),
    ],
)
def test_a_refused_claim_shows_the_form_error(
    world: World, spare: Gateway, serial: str, code: str, error: str
) -> None:
    response = login(world, "installer").post(
        claim_url(world.household), {"serial": serial, "claim_code": code}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert error in page and 'class="errorlist"' in page
    assert f'value="{serial}"' in page or not serial  # what was typed stays
    spare.refresh_from_db()
    assert spare.household is None


def test_a_box_of_another_tenant_is_unknown(world: World) -> None:
    services.gateway_register(
        tenant=world.other_tenant, serial="HEB-FR-S0001", claim_code=CLAIM_CODE
    )
    response = login(world, "platform_admin").post(
        claim_url(world.household), {"serial": "HEB-FR-S0001", "claim_code": CLAIM_CODE}
    )
    assert "Unknown serial or wrong claim code." in response.content.decode()
    assert Gateway.objects.get(serial="HEB-FR-S0001").household is None


def test_a_box_already_in_use_is_refused(world: World, spare: Gateway) -> None:
    services.gateway_claim(
        user=world.users["dso_staff"],
        household=world.neighbour,
        serial=SERIAL,
        claim_code=CLAIM_CODE,
    )
    services.gateway_provision(serial=SERIAL, claim_code=CLAIM_CODE)
    response = login(world, "installer").post(
        claim_url(world.household), {"serial": SERIAL, "claim_code": CLAIM_CODE}
    )
    assert response.status_code == 200
    assert "This gateway already belongs to a household." in response.content.decode()
    spare.refresh_from_db()
    assert spare.household == world.neighbour


@pytest.mark.parametrize(
    ("role", "household", "status"),
    [
        ("installer", "neighbour", 404),  # not assigned: not even in view
        ("installer", "abroad", 404),
        ("dso_staff", "abroad", 404),
        ("household_owner", "household", 403),
        ("household_member", "household", 403),
        ("third_party", "household", 403),
        (None, "household", 302),
    ],
)
def test_claims_out_of_reach(
    world: World, spare: Gateway, role: str | None, household: str, status: int
) -> None:
    target = getattr(world, household)
    response = login(world, role).post(
        claim_url(target), {"serial": SERIAL, "claim_code": CLAIM_CODE}
    )
    assert response.status_code == status
    spare.refresh_from_db()
    assert spare.household is None


def test_an_expired_assignment_gives_no_claim(world: World, spare: Gateway) -> None:
    world.household.installer_assignments.update(expires_at=timezone.now())
    response = login(world, "installer").post(
        claim_url(world.household), {"serial": SERIAL, "claim_code": CLAIM_CODE}
    )
    assert response.status_code == 404
    spare.refresh_from_db()
    assert spare.household is None


def test_claim_is_post_only(world: World) -> None:
    assert login(world, "installer").get(claim_url(world.household)).status_code == 405


def test_the_household_page_offers_a_pairing_request(world: World, spare: Gateway) -> None:
    services.gateway_claim(
        user=world.users["installer"],
        household=world.household,
        serial=SERIAL,
        claim_code=CLAIM_CODE,
    )
    page = login(world, "installer").get(household_url(world.household)).content.decode()
    url = reverse("console:pairing-request", kwargs={"gateway_id": spare.pk})
    assert url in page and "Request pairing" in page
    assert reverse("console:gateway", kwargs={"gateway_id": spare.pk}) in page
