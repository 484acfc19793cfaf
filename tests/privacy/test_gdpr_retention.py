"""Retention limits: what is older than its limit goes, in chunks; the recent and the
kept-for-life (daily rollups, consent) stay; each run leaves a record with its counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings

from apps.energy.models import HouseholdEnergy
from apps.fleet.models import GatewayCommand
from apps.forecasting.models import Forecast
from apps.live.models import Notification, OverloadEpisode
from apps.privacy import retention, tasks
from apps.privacy.models import AccessLogEntry, ConsentEvent, DataRightsKind, DataRightsRecord
from apps.scheduling.models import DailyPlan
from apps.telemetry.models import IngestedBatch
from tests.conftest import World
from tests.privacy.test_gdpr import populate

pytestmark = pytest.mark.django_db

OLD = dt.datetime(2021, 3, 1, 12, tzinfo=dt.UTC)  # beyond every limit at TODAY
RECENT = dt.datetime(2025, 5, 30, 12, tzinfo=dt.UTC)  # within every limit
TODAY = dt.datetime(2025, 6, 2, 3, 40, tzinfo=dt.UTC)


def _made_at(moment: dt.datetime, world: World) -> None:
    """The world's data as written at `moment` (auto_now_add times included)."""
    with time_machine.travel(moment, tick=False):
        populate(world, at=moment)
        for household in (world.household, world.neighbour, world.abroad):
            for resolution in ("1d", "1mo"):
                HouseholdEnergy.objects.create(
                    household=household, resolution=resolution, start=moment, import_wh=5
                )
        GatewayCommand.objects.filter(created_at=moment).update(status="done")


@pytest.fixture
def old_and_recent(world: World) -> World:
    _made_at(OLD, world)
    for household in (world.household, world.neighbour, world.abroad):  # unique per day
        DailyPlan.objects.filter(household=household).update(day=OLD.date())
    # A second set of rows, recent: new devices and commands, same households.
    _recent(world)
    return world


def _recent(world: World) -> None:
    from apps.households.models import Household

    for household in Household.objects.all():
        HouseholdEnergy.objects.create(household=household, resolution="15m", start=RECENT)
        Notification.objects.create(household=household, kind="overload", level="warning")
        AccessLogEntry.objects.create(
            household=household, reader_name="dso", role="dso_staff", purpose="grid_operation",
            basis="consent", resolution="15m", what="energy", at=RECENT,
        )  # fmt: skip
        Forecast.objects.create(
            household=household, kind="load", horizon="day_ahead", day=RECENT.date(),
            issued_at=RECENT, start=RECENT,
        )  # fmt: skip


def test_old_rows_go_recent_and_lifetime_rows_stay(old_and_recent: World) -> None:
    with time_machine.travel(TODAY, tick=False):
        record = retention.retention_enforce()

    fine = HouseholdEnergy.objects.filter(resolution="15m")
    assert set(fine.values_list("start", flat=True)) == {RECENT}
    assert HouseholdEnergy.objects.filter(resolution__in=["1d", "1mo"], start=OLD).count() == 6
    assert set(AccessLogEntry.objects.values_list("at", flat=True)) == {RECENT}
    assert Notification.objects.count() == 3  # the recent ones (created "now" in the test)
    assert not OverloadEpisode.objects.exists()
    assert set(Forecast.objects.values_list("day", flat=True)) == {RECENT.date()}
    assert not DailyPlan.objects.exists()
    assert not GatewayCommand.objects.filter(status="done").exists()
    assert not IngestedBatch.objects.exists()
    assert ConsentEvent.objects.count() == 3  # the proof of consent is kept for life

    assert record.kind == DataRightsKind.RETENTION
    assert record.household_id is None
    assert record.finished_at is not None
    assert record.counts["energy.HouseholdEnergy"] == 3
    assert record.counts["privacy.AccessLogEntry"] == 3
    assert record.counts["scheduling.DailyPlan_commands"] == 3  # cascaded, and counted


def test_a_second_run_finds_nothing_more(old_and_recent: World) -> None:
    with time_machine.travel(TODAY, tick=False):
        retention.retention_enforce()
        second = retention.retention_enforce()
    assert second.counts == {}
    assert DataRightsRecord.objects.filter(kind=DataRightsKind.RETENTION).count() == 2


def test_rows_just_inside_the_limit_stay(world: World) -> None:
    limit = dt.timedelta(days=settings.PRIVACY_RETENTION_ACCESS_LOG_DAYS)
    for age in (limit - dt.timedelta(minutes=1), limit + dt.timedelta(minutes=1)):
        AccessLogEntry.objects.create(
            household=world.household, reader_name="dso", role="dso_staff",
            purpose="grid_operation", basis="consent", resolution="15m", what="x", at=TODAY - age,
        )  # fmt: skip
    with time_machine.travel(TODAY, tick=False):
        record = retention.retention_enforce()
    assert record.counts == {"privacy.AccessLogEntry": 1}
    assert AccessLogEntry.objects.get().at == TODAY - limit + dt.timedelta(minutes=1)


def test_the_limits_come_from_settings(world: World) -> None:
    AccessLogEntry.objects.create(
        household=world.household, reader_name="dso", role="dso_staff", purpose="grid_operation",
        basis="consent", resolution="15m", what="x", at=TODAY - dt.timedelta(days=10),
    )  # fmt: skip
    with (
        override_settings(PRIVACY_RETENTION_ACCESS_LOG_DAYS=7),
        time_machine.travel(TODAY, tick=False),
    ):
        tasks.enforce_retention.delay()
    assert not AccessLogEntry.objects.exists()


def test_deletion_goes_in_chunks(old_and_recent: World, monkeypatch: Any) -> None:
    monkeypatch.setattr(retention, "CHUNK_ROWS", 2)
    with time_machine.travel(TODAY, tick=False):
        counts = tasks.enforce_retention()
    assert counts["energy.HouseholdEnergy"] == 3
    assert counts["energy.DeviceEnergy"] == 3


def test_the_task_is_on_the_beat_schedule() -> None:
    entries = [e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "apps.privacy.tasks.enforce_retention" in entries
