"""Erasure: nothing of the household is left, the boxes are released, accounts anonymised,
the audit record stays, the other households are untouched, and a failure erases nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from apps.accounts.models import User
from apps.fleet.models import Gateway, GatewayCredential
from apps.households.models import Household
from apps.privacy import erasure, gdpr
from apps.privacy.models import DataRightsKind, DataRightsRecord
from apps.telemetry.models import IngestedBatch
from tests.conftest import ROLES, World
from tests.privacy.test_gdpr import body, populate, row_counts

pytestmark = pytest.mark.django_db


def erase_as(world: World, role: str | None, household: Household, data: Any = None) -> Any:
    url = reverse("api-v1:household-erasure", kwargs={"household_id": household.pk})
    payload = {"confirm": household.name} if data is None else data
    return world.client(role).post(url, data=payload, format="json")


def everything_reaching(household_id: Any) -> dict[str, int]:
    """Rows of every model with any chain of foreign keys to the household."""
    counts = {
        link.label: link.rows_reaching(household_id).count() for link in gdpr.household_links()
    }
    return {label: count for label, count in counts.items() if count}


def test_erasure_leaves_nothing_behind_and_keeps_the_audit_and_the_others(world: World) -> None:
    populate(world)
    LogEntry.objects.create(
        user=world.users["platform_admin"], action_flag=CHANGE, object_repr="Our home",
        content_type=ContentType.objects.get_for_model(Household),
        object_id=str(world.household.pk),
    )  # fmt: skip
    ours = world.household.pk
    neighbour_before, abroad_before = row_counts(world.neighbour), row_counts(world.abroad)
    assert everything_reaching(ours)

    response = erase_as(world, "household_owner", world.household)

    assert response.status_code == 200, response.content
    assert everything_reaching(ours) == {}
    assert not Household.objects.filter(pk=ours).exists()
    assert row_counts(world.neighbour) == neighbour_before
    assert row_counts(world.abroad) == abroad_before

    record = DataRightsRecord.objects.get(kind=DataRightsKind.ERASURE)
    assert response.json()["id"] == str(record.pk)
    assert record.household_id == ours
    assert record.tenant_id == world.home_tenant.pk
    assert record.finished_at is not None
    assert record.counts["households.Household"] == 1
    assert record.counts["telemetry.MeterReading"] == 1
    assert record.counts["scheduling.DailyPlan_commands"] == 1
    assert record.counts["fleet.Gateway (released)"] == 1
    assert record.counts["accounts.User (anonymised)"] == 2
    # No personal data in the record: no name, address, meter, username or email.
    text = str(record.counts) + record.requested_by_name
    for personal in ("Our home", "Kerkstraat", world.household.meter_point_id, "owner@", "member"):
        assert personal not in text
    assert LogEntry.objects.get(object_id=str(ours)).object_repr == erasure.ERASED_LABEL


def test_the_box_is_released_not_deleted(world: World) -> None:
    populate(world)
    gateway = world.gateways["ours"]
    erase_as(world, "household_owner", world.household)
    gateway.refresh_from_db()
    assert gateway.household_id is None
    assert gateway.claimed_at is None and gateway.claimed_by is None
    assert gateway.meter_id_seen == ""
    assert not GatewayCredential.objects.filter(gateway=gateway, revoked_at__isnull=True).exists()
    assert GatewayCredential.objects.filter(gateway=gateway).exists()  # the fleet keeps its log
    assert not IngestedBatch.objects.filter(gateway=gateway).exists()
    assert IngestedBatch.objects.filter(gateway=world.gateways["neighbour"]).exists()
    assert Gateway.objects.filter(pk=world.gateways["neighbour"].pk, household=world.neighbour)


def test_accounts_of_nobody_else_are_anonymised_others_kept(world: World) -> None:
    owner, member = world.users["household_owner"], world.users["household_member"]
    # The member also belongs to the neighbour's household: that account stays as it is.
    from apps.households import services

    services.member_add(household=world.neighbour, user=member)
    erase_as(world, "household_owner", world.household)

    owner.refresh_from_db()
    member.refresh_from_db()
    assert not owner.is_active and not owner.has_usable_password()
    assert owner.username.startswith("erased-")
    assert owner.email == owner.first_name == owner.last_name == ""
    assert member.is_active and member.username == "member"
    assert list(member.memberships.values_list("household", flat=True)) == [world.neighbour.pk]
    staff = ("dso", "installer", "admin")
    assert User.objects.filter(username__in=staff, is_active=True).count() == 3


def test_the_owner_s_earlier_export_records_lose_the_name(world: World) -> None:
    client = world.client("household_owner")
    body(client.get(f"/api/v1/households/{world.household.pk}/export/"))
    erase_as(world, "household_owner", world.household)
    export = DataRightsRecord.objects.get(kind=DataRightsKind.EXPORT)
    assert export.requested_by_name == erasure.ERASED_LABEL
    assert DataRightsRecord.objects.get(kind=DataRightsKind.ERASURE).requested_by_name == (
        "household_owner"
    )


def test_a_failure_half_way_erases_nothing(world: World, monkeypatch: Any) -> None:
    populate(world)
    before = everything_reaching(world.household.pk)

    def broken(people: Any) -> int:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(erasure, "_anonymise", broken)
    with pytest.raises(RuntimeError):
        erasure.household_erase(
            user=world.users["household_owner"],
            household_id=world.household.pk,
            confirmation=world.household.name,
        )
    assert everything_reaching(world.household.pk) == before
    assert Gateway.objects.get(pk=world.gateways["ours"].pk).household_id == world.household.pk
    assert not DataRightsRecord.objects.exists()


# Confirmation and bad input ---------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [{}, {"confirm": ""}, {"confirm": "Neighbour"}, {"confirm": "yes"}, {"confirm": ["Our home"]},
     {"confirm": None}, ["Our home"], "Our home", {"confirm": "x" * 500}],
)  # fmt: skip
def test_erasure_needs_the_household_s_name_and_deletes_nothing_without(
    world: World, data: Any
) -> None:
    populate(world)
    before = everything_reaching(world.household.pk)
    response = erase_as(world, "household_owner", world.household, data=data)
    assert response.status_code == 400, response.content
    assert response.json()  # a message naming what is wrong
    assert everything_reaching(world.household.pk) == before
    assert not DataRightsRecord.objects.exists()


def test_the_confirmation_message_says_what_to_type(world: World) -> None:
    response = erase_as(world, "household_owner", world.household, data={"confirm": "nope"})
    assert "name" in response.json()["confirm"][0]


def test_the_name_is_compared_without_case_or_extra_spaces(world: World) -> None:
    response = erase_as(world, "household_owner", world.household, data={"confirm": " our  HOME "})
    assert response.status_code == 200


def test_malformed_json_is_400(world: World) -> None:
    url = reverse("api-v1:household-erasure", kwargs={"household_id": world.household.pk})
    client = world.client("household_owner")
    response = client.post(url, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert Household.objects.filter(pk=world.household.pk).exists()


def test_get_on_the_erasure_endpoint_is_405(world: World) -> None:
    url = reverse("api-v1:household-erasure", kwargs={"household_id": world.household.pk})
    assert world.client("household_owner").get(url).status_code == 405


# Who may erase ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [r for r in ROLES if r not in ("household_owner", "platform_admin")]
)
def test_nobody_but_the_owner_or_an_admin_may_erase_any_household(world: World, role: str) -> None:
    for household in (world.household, world.neighbour, world.abroad):
        response = erase_as(world, role, household)
        assert response.status_code == 404, (role, household.name)
        bad = erase_as(world, role, household, data={})
        assert bad.status_code == 404  # the household is not theirs: no hint about the body
    assert Household.objects.count() == 3
    assert not DataRightsRecord.objects.exists()


def test_the_owner_may_not_erase_the_neighbour(world: World) -> None:
    assert erase_as(world, "household_owner", world.neighbour).status_code == 404
    assert erase_as(world, "household_owner", world.abroad).status_code == 404
    assert erase_as(world, None, world.household).status_code == 403
    assert Household.objects.count() == 3


def test_a_platform_admin_erases_on_request_and_is_named_in_the_record(world: World) -> None:
    response = erase_as(world, "platform_admin", world.abroad)
    assert response.status_code == 200
    record = DataRightsRecord.objects.get()
    assert record.requested_by_name == "admin"
    assert Household.objects.count() == 2
    assert world.users["platform_admin"].is_active


def test_an_unknown_household_is_404(world: World) -> None:
    url = reverse("api-v1:household-erasure", kwargs={"household_id": uuid.uuid4()})
    response = world.client("platform_admin").post(url, {"confirm": "x"}, format="json")
    assert response.status_code == 404
