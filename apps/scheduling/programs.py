"""Appliance programmes' power profiles, per quarter hour, from the programmes the box runs.

The simulated boxes run gateway_agent.simulator.appliances' programmes (phase by phase);
the planner needs each one as average watts per quarter hour. Deriving one from the other
keeps the plan and what the box then does in step.
"""

from __future__ import annotations

from collections.abc import Sequence

from apps.devices.models import Device, DeviceKind
from apps.scheduling.models import ApplianceProgram
from gateway_agent.devices import Phase
from gateway_agent.simulator.appliances import BUILDERS

QUARTER_S = 900.0
# The demo's appliance names and the programme families they run (apps.fleet.simulation).
FAMILY_BY_NAME = {
    "Washing machine": "washing_machine",
    "Dishwasher": "dishwasher",
    "Tumble dryer": "tumble_dryer",
}


def quarter_profile_w(phases: Sequence[Phase]) -> list[int]:
    """Average power of each quarter hour the phases cover (the last one partly filled)."""
    total = sum(p.duration_s for p in phases)
    quarters = [0.0] * max(1, int(-(-total // QUARTER_S)))
    elapsed = 0.0
    for phase in phases:
        start, end = elapsed, elapsed + phase.duration_s
        while start < end - 1e-9:
            index = int(start // QUARTER_S)
            piece = min(end, (index + 1) * QUARTER_S) - start
            quarters[index] += phase.power_w * piece / QUARTER_S
            start += piece
        elapsed = end
    return [round(w) for w in quarters]


def programs_install(*, device: Device) -> list[ApplianceProgram]:
    """The programmes of a known appliance (by its name), created or refreshed."""
    family = FAMILY_BY_NAME.get(device.name)
    if family is None or device.kind != DeviceKind.APPLIANCE:
        return []
    programs, _default = BUILDERS[family](device.rated_power_w)
    return [
        ApplianceProgram.objects.update_or_create(
            device=device, name=name, defaults={"profile_w": quarter_profile_w(phases)}
        )[0]
        for name, phases in programs.items()
    ]
