"""Partitions (PostgreSQL), retention, and the ingest-to-rollup path."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from apps.energy import services as energy
from apps.energy.models import HouseholdEnergy
from apps.telemetry import services
from apps.telemetry.models import MeterReading
from tests.energy.helpers import meter, store
from tests.factories import HouseholdFactory
from tests.fleet.conftest import Box, batch, meter_reading

pytestmark = pytest.mark.django_db


def partition_of(time: datetime) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM telemetry_meterreading WHERE time = %s", [time]
        )
        return cursor.fetchone()[0]


def test_partitions_are_created_ahead_and_readings_land_in_them(postgres: None) -> None:
    created = services.telemetry_partitions_ensure(months_ahead=3, today=date(2031, 1, 15))
    assert "telemetry_meterreading_p2031_04" in created
    assert "telemetry_devicereading_p2031_01" in created
    assert services.telemetry_partitions_ensure(months_ahead=3, today=date(2031, 1, 15)) == []
    home = HouseholdFactory()
    moment = datetime(2031, 2, 3, 4, 5, tzinfo=UTC)
    store(meter(home, moment, moment))
    assert partition_of(moment) == "telemetry_meterreading_p2031_02"


def test_a_reading_far_away_is_kept_and_moves_into_its_partition(postgres: None) -> None:
    home = HouseholdFactory()
    moment = datetime(2035, 7, 1, tzinfo=UTC)
    store(meter(home, moment, moment))
    assert partition_of(moment) == "telemetry_meterreading_default"
    services.telemetry_partitions_ensure(months_ahead=0, today=date(2035, 7, 1))
    assert partition_of(moment) == "telemetry_meterreading_p2035_07"


def test_retention_drops_old_raw_readings_but_keeps_rollups(settings: Any) -> None:
    settings.TELEMETRY_RAW_RETENTION_DAYS = 90
    now = datetime(2031, 9, 20, tzinfo=UTC)
    services.telemetry_partitions_ensure(months_ahead=1, today=date(2031, 5, 1))
    home = HouseholdFactory()
    old = datetime(2031, 5, 10, tzinfo=UTC)
    recent = now - timedelta(days=3)
    store(meter(home, old, old + timedelta(hours=1)))
    store(meter(home, recent, recent + timedelta(hours=1)))
    energy.energy_rollup_household(household=home, start=old, end=old + timedelta(hours=1), now=old)
    kept = HouseholdEnergy.objects.count()
    assert kept > 0
    services.telemetry_retention_enforce(now=now)
    assert not MeterReading.objects.filter(time__lt=now - timedelta(days=90)).exists()
    assert MeterReading.objects.filter(time__gte=recent).count() == 61
    assert HouseholdEnergy.objects.count() == kept


def test_rollups_never_recompute_beyond_the_retention_horizon(settings: Any) -> None:
    settings.TELEMETRY_RAW_RETENTION_DAYS = 90
    home = HouseholdFactory()
    old = datetime(2031, 5, 10, tzinfo=UTC)
    done = energy.energy_rollup_household(
        household=home, start=old, end=old, now=old + timedelta(days=200)
    )
    assert done == 0 and not HouseholdEnergy.objects.exists()


def test_a_signed_batch_leads_to_rollups(
    paired_box: Box, django_capture_on_commit_callbacks: Any
) -> None:
    start = (timezone.now() - timedelta(hours=1)).replace(second=0, microsecond=0)
    readings = [
        meter_reading(
            timestamp=(start + timedelta(minutes=n)).isoformat(),
            import_wh={"1": 1_000_000 + 20 * n, "2": 500},
            export_wh={"1": 0, "2": 0},
        )
        for n in range(40)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = paired_box.post(
            "telemetry/", json.dumps(batch(paired_box, meter=readings)).encode()
        )
    assert response.status_code == 201, response.content
    household = paired_box.gateway.household
    quarters = HouseholdEnergy.objects.filter(household=household, resolution="15m")
    inside = quarters.filter(start__gte=start, start__lte=start + timedelta(minutes=24))
    assert inside.exists()  # quarters with readings all through them
    assert {(q.import_wh, q.complete) for q in inside} == {(300, True)}
    assert HouseholdEnergy.objects.filter(household=household, resolution="1mo").exists()


def test_the_beat_catches_batches_whose_rollup_was_lost(paired_box: Box) -> None:
    start = (timezone.now() - timedelta(minutes=30)).replace(second=0, microsecond=0)
    readings = [
        meter_reading(timestamp=(start + timedelta(minutes=n)).isoformat(), import_wh={"1": 10 * n})
        for n in range(40)
    ]
    # Without capturing on-commit callbacks the test transaction never commits: lost task.
    assert paired_box.post("telemetry/", batch(paired_box, meter=readings)).status_code == 201
    assert not HouseholdEnergy.objects.exists()
    assert energy.energy_rollup_recent() == 1
    inside = HouseholdEnergy.objects.filter(
        resolution="15m", start__gte=start, start__lte=start + timedelta(minutes=24)
    )
    assert inside.exists()
    assert {(q.import_wh, q.complete) for q in inside} == {(150, True)}
