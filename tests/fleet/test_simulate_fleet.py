"""simulate_fleet: virtual boxes go through the real link against a live server."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apps.fleet import services
from apps.telemetry.models import DeviceReading, MeterReading
from tests.conftest import World
from tests.fleet.conftest import METER_ID

pytestmark = pytest.mark.django_db(transaction=True)


def test_virtual_boxes_claim_provision_and_upload(live_server: Any, world: World) -> None:
    gateway = world.gateways["ours"]
    pairing = services.pairing_request(user=world.users["household_owner"], gateway=gateway)
    services.pairing_approve(user=world.users["dso_staff"], pairing=pairing, meter_id=METER_ID)
    out = StringIO()
    call_command(
        "simulate_fleet", gateways=1, speed=300, backfill_hours=0.5, server=live_server.url,
        duration=8, stdout=out, stderr=out,
    )  # fmt: skip
    assert "boxes 1/1 online" in out.getvalue(), out.getvalue()
    times = list(MeterReading.objects.filter(gateway=gateway).values_list("time", flat=True))
    assert len(times) >= 10, out.getvalue()
    assert len(set(times)) == len(times)  # exactly once
    assert set(MeterReading.objects.values_list("meter_id", flat=True)) == {METER_ID}
    assert DeviceReading.objects.filter(device=world.devices["ours"]).exists()
    gateway.refresh_from_db()
    assert gateway.last_seen_at is not None


def test_without_a_paired_box_it_says_what_to_do(world: World) -> None:
    with pytest.raises(CommandError, match="approved meter pairing"):
        call_command("simulate_fleet", gateways=1, duration=1)
