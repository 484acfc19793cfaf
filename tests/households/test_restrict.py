"""restrict() per role, grants that expire at once, and the membership services."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from guardian.shortcuts import get_perms

from apps.core.permissions import Action, Role
from apps.devices.models import Device
from apps.fleet.models import Gateway
from apps.households import services, tasks
from apps.households.models import Household, InstallerAssignment
from tests.conftest import World
from tests.factories import GatewayFactory, UserFactory


def visible(user, action=Action.VIEW) -> set[str]:
    return {h.name for h in Household.objects.restrict(user, action)}


def test_each_role_sees_exactly_its_households(world: World) -> None:
    u = world.users
    everything = {"Our home", "Neighbour", "Abroad"}
    assert visible(u["platform_admin"]) == everything
    assert visible(u["telco_operator"]) == everything
    assert visible(u["dso_staff"]) == {"Our home", "Neighbour"}
    assert visible(u["installer"]) == {"Our home"}
    assert visible(u["household_owner"]) == {"Our home"}
    assert visible(u["household_member"]) == {"Our home"}
    assert visible(u["third_party"]) == set()


def test_installers_and_telco_never_reach_consumption(world: World) -> None:
    u = world.users
    for role in ("installer", "platform_admin", "telco_operator"):
        assert visible(u[role], Action.VIEW_CONSUMPTION) == set()
    assert visible(u["household_member"], Action.VIEW_CONSUMPTION) == {"Our home"}
    assert visible(u["household_member"], Action.MANAGE_MEMBERS) == set()
    assert visible(u["household_member"], Action.CONTROL_DEVICES) == set()


def test_a_grant_outside_the_users_tenant_gives_nothing(world: World) -> None:
    """Structural tenant scoping holds even if a grant row is wrong."""
    from guardian.shortcuts import assign_perm

    owner = world.users["household_owner"]
    assign_perm("households.view_household", owner, world.abroad)
    assert visible(owner) == {"Our home"}


def test_an_expired_installer_assignment_fails_at_once(world: World) -> None:
    installer = world.users["installer"]
    assert visible(installer, Action.INSTALL) == {"Our home"}
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        # The permission rows are still there: the live assignment check cuts access.
        assert "view_household" in get_perms(installer, world.household)
        assert visible(installer) == set()
        assert Gateway.objects.restrict(installer, Action.VIEW).count() == 0
        assert tasks.expire_installer_assignments.delay().get() == 1
        assert get_perms(installer, world.household) == []
        assert tasks.expire_installer_assignments.delay().get() == 0  # idempotent


def test_revoking_an_assignment_removes_the_grant(world: World) -> None:
    assignment = InstallerAssignment.objects.get(installer=world.users["installer"])
    services.installer_unassign(assignment=assignment, revoked_by=world.users["dso_staff"])
    assert visible(world.users["installer"]) == set()
    assert get_perms(world.users["installer"], world.household) == []


def test_only_the_tenants_staff_assign_installers_of_that_tenant(world: World) -> None:
    installer = world.users["installer"]
    with pytest.raises(PermissionDenied):
        services.installer_assign(
            household=world.household,
            installer=installer,
            assigned_by=world.users["household_owner"],
        )
    foreign = UserFactory(role=Role.INSTALLER, tenant=world.other_tenant)
    with pytest.raises(ValidationError):
        services.installer_assign(
            household=world.household, installer=foreign, assigned_by=world.users["dso_staff"]
        )


def test_children_follow_their_household(world: World) -> None:
    owner = world.users["household_owner"]
    assert set(Gateway.objects.restrict(owner, Action.VIEW)) == {world.gateways["ours"]}
    assert set(Device.objects.restrict(owner, Action.VIEW)) == {world.devices["ours"]}
    spare = GatewayFactory(household=None, tenant=world.home_tenant)
    assert spare in Gateway.objects.restrict(world.users["dso_staff"], Action.VIEW)
    assert spare not in Gateway.objects.restrict(owner, Action.VIEW)
    assert spare not in Gateway.objects.restrict(world.users["installer"], Action.VIEW)


def test_invite_accept_and_remove_a_member(
    world: World, django_capture_on_commit_callbacks
) -> None:
    owner = world.users["household_owner"]
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = services.member_invite(
            household=world.household, invited_by=owner, email="kid@example.invalid"
        )
    assert len(mail.outbox) == 1 and token in mail.outbox[0].body
    assert token not in invitation.token_hash

    kid = UserFactory(role=Role.HOUSEHOLD_MEMBER, tenant=world.home_tenant)
    services.invitation_accept(token=token, user=kid)
    assert visible(kid) == {"Our home"}
    with pytest.raises(ValidationError):
        services.invitation_accept(token=token, user=kid)  # single use

    with pytest.raises(PermissionDenied):
        services.member_remove(
            household=world.household, user=kid, removed_by=world.users["household_member"]
        )
    services.member_remove(household=world.household, user=kid, removed_by=owner)
    assert visible(kid) == set()


def test_an_invitation_expires(world: World) -> None:
    _, token = services.member_invite(
        household=world.household,
        invited_by=world.users["household_owner"],
        email="x@example.invalid",
    )
    kid = UserFactory(role=Role.HOUSEHOLD_MEMBER, tenant=world.home_tenant)
    with time_machine.travel(timezone.now() + timedelta(days=8)), pytest.raises(ValidationError):
        services.invitation_accept(token=token, user=kid)


def test_members_cannot_invite_and_the_last_owner_cannot_leave(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.member_invite(
            household=world.household,
            invited_by=world.users["household_member"],
            email="x@example.invalid",
        )
    owner = world.users["household_owner"]
    with pytest.raises(ValidationError):
        services.member_remove(household=world.household, user=owner, removed_by=owner)


def test_a_member_may_leave(world: World) -> None:
    member = world.users["household_member"]
    services.member_remove(household=world.household, user=member, removed_by=member)
    assert visible(member) == set()


def test_an_owner_may_grant_control_to_a_member(world: World) -> None:
    member = world.users["household_member"]
    services.member_add(household=world.household, user=member, can_control=True)
    assert visible(member, Action.CONTROL_DEVICES) == {"Our home"}
    services.member_add(household=world.household, user=member, can_control=False)
    assert visible(member, Action.CONTROL_DEVICES) == set()


def test_household_validates_its_meter_point_for_the_tenant_country(world: World) -> None:
    household = Household(
        tenant=world.other_tenant, name="x", address="x", postcode="75011", city="Paris",
        timezone="Europe/Paris", meter_point_id="5414", contracted_power_kva=6,
    )  # fmt: skip
    with pytest.raises(ValidationError) as error:
        household.full_clean()
    assert "meter_point_id" in error.value.message_dict
