"""The data-access policy: consumption scope by role, and the finest resolution each may read."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from apps.privacy.policy import Resolution, consumption_access
from tests.conftest import ROLES, World

pytestmark = pytest.mark.django_db

# role → (own household, neighbour in the tenant, abroad) at 15-min and daily resolution.
EXPECTED = {
    "platform_admin": ("404 404 404", "404 404 404"),
    "telco_operator": ("404 404 404", "404 404 404"),
    "dso_staff": ("403 403 404", "ok ok 404"),
    "installer": ("404 404 404", "404 404 404"),
    "household_owner": ("ok 404 404", "ok 404 404"),
    "household_member": ("ok 404 404", "ok 404 404"),
    "third_party": ("404 404 404", "404 404 404"),
}


def outcome(world: World, role: str, household: object, resolution: Resolution) -> str:
    try:
        access = consumption_access(
            user=world.users[role],
            household_id=household.pk,
            resolution=resolution,  # type: ignore[attr-defined]
        )
    except Http404:
        return "404"
    except PermissionDenied:
        return "403"
    assert access.household == household
    return "ok"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_consumption_only_in_scope_and_no_finer_than_allowed(
    world: World, role: str
) -> None:
    targets = (world.household, world.neighbour, world.abroad)
    for resolution, expected in zip(
        (Resolution.QUARTER, Resolution.DAY), EXPECTED[role], strict=True
    ):
        got = " ".join(outcome(world, role, h, resolution) for h in targets)
        assert got == expected, (role, resolution)


def test_the_refusal_names_the_finest_resolution_allowed(world: World) -> None:
    with pytest.raises(PermissionDenied, match="1d"):
        consumption_access(
            user=world.users["dso_staff"],
            household_id=world.household.pk,
            resolution=Resolution.RAW,
        )
