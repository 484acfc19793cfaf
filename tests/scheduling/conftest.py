"""A household with a dishwasher on its box, and the Belgian tariffs (bi-horaire by default)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.devices.models import DeviceKind
from apps.scheduling.programs import programs_install
from apps.tariffs.defaults import ensure_default_tariffs
from tests.conftest import World
from tests.factories import DeviceFactory
from tests.fleet.conftest import box, unclaimed  # noqa: F401  (fixtures)


@pytest.fixture
def dishwasher(world: World) -> Any:
    ensure_default_tariffs(world.home_tenant)
    device = DeviceFactory(
        household=world.household, gateway=world.gateways["ours"], name="Dishwasher",
        kind=DeviceKind.APPLIANCE, rated_power_w=1800, controllable=True,
    )  # fmt: skip
    programs_install(device=device)
    return device
