"""Coaching tips' states: refreshed from the rules, dismissed or done by the household,
counted in the reports; the insights page through the data-access policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import translation

from apps.energy.models import HouseholdEnergy
from apps.households.models import Household
from apps.insights import selectors, services, tasks
from apps.insights.coaching import coaching_tips
from apps.insights.models import TipCheck, TipState, TipStatus
from apps.insights.reports import report_build
from apps.insights.tips import state_text
from apps.tariffs.defaults import ensure_default_tariffs
from tests.conftest import World, mfa_login
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
    mfa_login(client, world.users[role])
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

    report = report_build(household=home, period="month", day=LATER.date())
    assert (report.habits.done, report.habits.done_per_year, report.habits.open) == (
        1,
        state.eur_per_year,
        0,
    )
    response = client_for(world, "household_owner").get(
        reverse("portal:report", args=[home.pk, "month", "2026-07-01"])
    )
    assert response.status_code == 200
    assert "1 tip done so far" in response.content.decode()


def test_a_past_reports_habits_are_as_of_its_end(world: World, home: Household) -> None:
    """Done on 6 July: June's report still shows the tip open, July's shows it done; a tip
    dismissed in July was open at the end of June and is no longer open in July."""
    services.tips_refresh(household=home, now=NOW)
    TipState.objects.create(
        household=home, kind="shift_to_cheaper_hours", first_seen_at=NOW, updated_at=NOW,
        eur_per_year=Decimal("20.00"),
    )  # fmt: skip
    owner = world.users["household_owner"]
    done = services.tip_done(user=owner, household=home, kind="standby", now=LATER)
    services.tip_dismiss(user=owner, household=home, kind="shift_to_cheaper_hours", now=LATER)
    TipState.objects.create(  # first seen in July: not in June's report at all
        household=home, kind="pv_self_consumption", first_seen_at=LATER, updated_at=LATER,
    )  # fmt: skip

    def habits(day: Any, period: Any = "month") -> tuple[int, Decimal, int]:
        report = report_build(household=home, period=period, day=day)
        return report.habits.done, report.habits.done_per_year, report.habits.open

    assert habits(NOW.date()) == (0, Decimal(0), 2)
    assert habits(LATER.date()) == (1, done.eur_per_year, 1)
    assert habits(datetime(2026, 7, 5).date(), "day") == (0, Decimal(0), 2)  # the day before
    assert habits(datetime(2026, 5, 1).date()) == (0, Decimal(0), 0)  # before any tip


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
    services.tips_refresh(household=home, now=NOW)
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
    services.tips_refresh(household=home, now=NOW)
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


# Tips are computed by the daily task or on request; the page only reads them -----------


@pytest.mark.parametrize("role", ["household_owner", "dso_staff"])
def test_a_get_never_computes_tips(
    world: World, home: Household, role: str, django_assert_max_num_queries: Any
) -> None:
    client = client_for(world, role)
    with (
        time_machine.travel(NOW, tick=False),
        mock.patch("apps.insights.services.coaching_tips", side_effect=AssertionError("computed")),
    ):
        body = client.get(page(home)).content.decode()
    assert not TipState.objects.exists() and not TipCheck.objects.exists()
    assert 'data-testid="tips-checked"' in body and 'data-testid="no-tips"' not in body
    assert ('data-testid="tips-refresh"' in body) == (role == "household_owner")


def test_the_owner_asks_for_tips_and_staff_cannot(world: World, home: Household) -> None:
    with time_machine.travel(NOW, tick=False):
        refused = client_for(world, "dso_staff").post(page(home))
        assert refused.status_code == 403 and not TipCheck.objects.exists()
        response = client_for(world, "household_owner").post(page(home))
        assert response.status_code == 302 and response["Location"] == page(home)
        body = client_for(world, "dso_staff").get(page(home)).content.decode()
    assert TipCheck.objects.get(household=home).checked_at == NOW
    assert 'data-testid="tip-standby"' in body and "EUR a year" in body


def test_a_stored_tip_is_shown_in_the_readers_language(home: Household) -> None:
    with translation.override("en"):
        services.tips_refresh(household=home, now=NOW)
    state = TipState.objects.get(household=home)
    assert state.values["watts"] == "400"
    with translation.override("fr"):
        french = coaching_tips(household=home, now=NOW)[0]
        assert state_text(state) == (french.title, french.body)
    assert french.title != state.title  # stored in English
    state.values = {}  # a state stored before tips kept their values: its title alone
    assert state_text(state) == (state.title, "")


def test_the_hourly_task_refreshes_the_stale_households_only(world: World, home: Household) -> None:
    fresh, stale = world.neighbour, world.abroad
    TipCheck.objects.create(household=fresh, checked_at=NOW - timedelta(hours=2))
    TipCheck.objects.create(household=stale, checked_at=NOW - timedelta(days=2))
    due = selectors.tips_stale(now=NOW)
    assert home.pk in due and stale.pk in due and fresh.pk not in due
    assert due.index(home.pk) < due.index(stale.pk)  # never checked first
    assert selectors.tips_stale(now=NOW, limit=1) == [due[0]]
    with time_machine.travel(NOW, tick=False):
        assert tasks.refresh_stale_tips() == len(due)
    assert TipState.objects.get(household=home).kind == "standby"
    assert not selectors.tips_stale(now=NOW)
