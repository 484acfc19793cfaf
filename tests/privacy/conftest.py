"""Shared fixtures of the privacy tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import World
from tests.energy.helpers import meter, store


@pytest.fixture
def data(world: World) -> World:
    """A day of readings for our household (2026-03-02, 5-minute steps, 1.2 kW), rolled up."""
    zone = ZoneInfo(world.household.timezone)
    start = datetime(2026, 3, 2, tzinfo=zone)
    store(
        meter(world.household, start, start + timedelta(days=1), every=timedelta(minutes=5)),
        roll=world.household,
    )
    return world
