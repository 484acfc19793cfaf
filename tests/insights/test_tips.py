"""Coaching tips' states: refreshed from the rules, dismissed or done by the household,
counted in the reports; the insights page through the data-access policy."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from apps.energy.models import HouseholdEnergy
from apps.households.models import Household
from apps.insights import services
from apps.insights.models import TipState, TipStatus
from apps.insights.reports import report_build
from apps.tariffs.defaults import ensure_default_tariffs
from tests.conftest import World
from tests.insights.test_coaching import NOW, house

pytestmark = pytest.mark.django_db

LATER = datetime(2026, 7, 6, 10, tzinfo=UTC)


@pytest.fixture
def home(world: World) -> Household:
    """Our household at 400 W around the clock in June 2026: a standby tip (see
    test_coaching: 320 W above typical standby, at the night price)."""
    ensure_default_tariffs(world.home_tenant)
    house(world.household, lambda t: 100)
    return world.household


def client_for(world: World, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def page(household: Any) -> str:
    return reverse("portal:insights", args=[household.pk])


def test_refresh_creates_an_open_state_per_tip(home: Household) -> None:
    tips = services.tips_refresh(household=home, now=NOW)
    assert [tip.kind for tip, _state in tips] == ["standby"]
    state = TipState.objects.get(household=home)
    assert (state.kind, state.status) == ("standby", TipStatus.OPEN)
    assert state.eur_per_year == tips[0][0].eur_per_year > 0
    assert state.first_seen_at == state.updated_at == NOW
    assert state.title == tips[0][0].title

    services.tips_refresh(household=home, now=LATER)  # the same tip again: one row, updated
    state.refresh_from_db()
    assert TipState.objects.filter(household=home).count() == 1
    assert (state.first_seen_at, state.updated_at) == (NOW, LATER)


def test_a_dismissed_tip_stays_dismissed(world: World, home: Household) -> None:
    services.tips_refresh(household=home, now=NOW)
    services.tip_dismiss(user=world.users["household_owner"], household=home, kind="standby")
    services.tips_refresh(household=home, now=LATER)
    state = TipState.objects.get(household=home, kind="standby")
    assert state.status == TipStatus.DISMISSED
    assert state.done_at is None


def test_a_tip_no_longer_found_keeps_its_state(world: World, home: Household) -> None:
    services.tips_refresh(household=home, now=NOW)
    HouseholdEnergy.objects.filter(household=home).delete()  # nothing to base a tip on
    assert services.tips_refresh(household=home, now=NOW) == []
    assert TipState.objects.get(household=home).status == TipStatus.OPEN


def test_done_is_counted_in_the_report(world: World, home: Household) -> None:
    services.tips_refresh(household=home, now=NOW)
    state = services.tip_done(
        user=world.users["household_owner"], household=home, kind="standby", now=LATER
    )
    assert (state.status, state.done_at) == (TipStatus.DONE, LATER)
    services.tips_refresh(household=home, now=LATER)  # stays done, its figure kept
    assert TipState.objects.get(pk=state.pk).status == TipStatus.DONE

    report = report_build(household=home, period="month", day=NOW.date())
    assert (report.habits.done, report.habits.done_per_year, report.habits.open) == (
        1,
        state.eur_per_year,
        0,
    )
    response = client_for(world, "household_owner").get(
        reverse("portal:report", args=[home.pk, "month", "2026-06-01"])
    )
    assert response.status_code == 200
    assert "1 tip done so far" in response.content.decode()


def test_report_without_tips(world: World) -> None:
    report = report_build(household=world.household, period="month", day=NOW.date())
    assert (report.habits.done, report.habits.done_per_year, report.habits.open) == (
        0,
        Decimal(0),
        0,
    )


@pytest.mark.parametrize("role", ["dso_staff", "installer", "third_party", "neighbour_owner"])
def test_only_those_who_control_the_home_change_its_tips(
    world: World, home: Household, role: str
) -> None:
    services.tips_refresh(household=home, now=NOW)
    for service in (services.tip_dismiss, services.tip_done):
        with pytest.raises(PermissionDenied):
            service(user=world.users[role], household=home, kind="standby")
    assert TipState.objects.get(household=home).status == TipStatus.OPEN


def test_a_member_needs_the_control_grant(world: World, home: Household) -> None:
    from guardian.shortcuts import assign_perm

    member = world.users["household_member"]
    services.tips_refresh(household=home, now=NOW)
    with pytest.raises(PermissionDenied):
        services.tip_done(user=member, household=home, kind="standby")
    assign_perm("households.control_devices", member, home)
    assert services.tip_done(user=member, household=home, kind="standby").status == "done"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("household_owner", 200),
        ("household_member", 200),
        ("dso_staff", 200),  # daily data: the DSO's finest without consent
        ("neighbour_owner", 404),
        ("abroad_owner", 404),
        ("installer", 404),
        ("platform_admin", 404),
    ],
)
def test_page_access(world: World, home: Household, role: str, status: int) -> None:
    with time_machine.travel(NOW, tick=False):
        response = client_for(world, role).get(page(home))
    assert response.status_code == status


def test_page_shows_tips_and_the_owner_ticks_one_off(world: World, home: Household) -> None:
    owner = client_for(world, "household_owner")
    with time_machine.travel(NOW, tick=False):
        body = owner.get(page(home)).content.decode()
        assert 'data-testid="tip-standby"' in body
        assert "EUR a year" in body
        assert reverse("portal:tip-done", args=[home.pk]) in body
        response = owner.post(reverse("portal:tip-done", args=[home.pk]), {"kind": "standby"})
        assert response.status_code == 302
        assert response["Location"] == page(home)
        body = owner.get(page(home)).content.decode()
    assert 'data-testid="tip-standby"' not in body
    assert TipState.objects.get(household=home).status == TipStatus.DONE
    assert TipState.objects.get(household=home).title in body  # in "done so far"


def test_dso_staff_reads_the_page_but_cannot_dismiss(world: World, home: Household) -> None:
    dso = client_for(world, "dso_staff")
    with time_machine.travel(NOW, tick=False):
        body = dso.get(page(home)).content.decode()
        assert 'data-testid="tip-standby"' in body
        assert reverse("portal:tip-dismiss", args=[home.pk]) not in body  # no buttons
        response = dso.post(reverse("portal:tip-dismiss", args=[home.pk]), {"kind": "standby"})
    assert response.status_code == 403
    assert TipState.objects.get(household=home).status == TipStatus.OPEN


def test_a_neighbour_cannot_post(world: World, home: Household) -> None:
    services.tips_refresh(household=home, now=NOW)
    response = client_for(world, "neighbour_owner").post(
        reverse("portal:tip-done", args=[home.pk]), {"kind": "standby"}
    )
    assert response.status_code == 404
    assert TipState.objects.get(household=home).status == TipStatus.OPEN


def test_an_unknown_tip_is_404(world: World, home: Household) -> None:
    response = client_for(world, "household_owner").post(
        reverse("portal:tip-dismiss", args=[home.pk]), {"kind": "nope"}
    )
    assert response.status_code == 404


def test_page_says_why_there_is_no_comparison(world: World, home: Household) -> None:
    # May 2026 in Brussels, complete: but ours is the only household with data.
    HouseholdEnergy.objects.create(
        household=home, resolution="1mo", start=datetime(2026, 4, 30, 22, tzinfo=UTC),
        import_wh=250_000, complete=True,
    )  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        body = client_for(world, "household_owner").get(page(home)).content.decode()
    assert 'data-testid="comparison-reason"' in body
    assert "Not enough similar households to compare with fairly." in body
    assert "250.0 kWh" in body or "250,0 kWh" in body
