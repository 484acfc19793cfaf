"""Ready-made situations for the simulator, for tests and demonstrations.

`overload_burst`: on a 3 kVA Linky contract, at the start of off-peak hours (22:00 in
France) the water heater starts heating (1.8 kW), the car is plugged into its charger
(2 kW) and, three minutes on, a washing machine heats its water (2 kW): with the base load,
4 kVA and then 6 kVA, well above the 3.4 kVA a Linky set at 3 kVA holds. Without a guard the
supply trips within about two and a half minutes; with one, the charger and then the water
heater are shed and come back once the washing machine has heated and the water heater
has had its turn, within the hour.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from gateway_agent.devices import SimulatedAppliance, SimulatedEVCharger, ThermostaticLoad
from gateway_agent.simulator.household import SimulatedHousehold

LINKY_KVA = 3
WATER_HEATER_ID = uuid.UUID("0b5e1a11-0000-4000-8000-000000000001")
EV_CHARGER_ID = uuid.UUID("0b5e1a11-0000-4000-8000-000000000002")
WASHER_ID = uuid.UUID("0b5e1a11-0000-4000-8000-000000000003")
BURST_START = datetime(2025, 1, 15, 21, 0, tzinfo=UTC)  # 22:00 in Paris: off-peak begins


def overload_burst_config(state_dir: str, server_url: str, **sections: Any) -> dict[str, Any]:
    """An agent configuration (for config.parse) of the burst's household: a Linky meter,
    a small base load, a water heater, an EV charger and a washing machine. The guard's
    `[overload]` section is left to the caller (`overload={...}` in `sections`)."""
    data: dict[str, Any] = {
        "server_url": server_url,
        "serial": "HEB-FR-BURST-1",
        "claim_code": "BURST-CLAIM-CODE",
        "state_dir": state_dir,
        "meter": {"source": "simulated", "protocol": "linky-standard", "sample_every_s": 10},
        "simulation": {"seed": 5, "annual_kwh": 2000, "start": BURST_START},
        "location": {"latitude": 48.85, "longitude": 2.35, "timezone": "Europe/Paris"},
        "devices": [
            {"id": str(WATER_HEATER_ID), "kind": "water_heater", "rated_w": 1800},
            {"id": str(EV_CHARGER_ID), "kind": "ev_charger", "rated_w": 2000},
            {
                "id": str(WASHER_ID),
                "kind": "appliance",
                "appliance": "washing_machine",
                "rated_w": 2000,
            },
        ],
    }
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(name), dict):
            data[name] = {**data[name], **value}
        else:
            data[name] = value
    return data


def start_overload_burst(household: SimulatedHousehold, *, washer: bool = True) -> None:
    """Start the burst now: the water heater reheating (from 57 °C to 60 °C, about 25
    minutes), the car plugged in at 30 %, and the washing machine's cotton 40 (its heater
    starts after the three-minute fill, for 15 minutes)."""
    heater = household.devices[WATER_HEATER_ID]
    charger = household.devices[EV_CHARGER_ID]
    machine = household.devices[WASHER_ID]
    assert isinstance(heater, ThermostaticLoad)
    assert isinstance(charger, SimulatedEVCharger)
    assert isinstance(machine, SimulatedAppliance)
    heater.temperature_c, heater.heating = 57.0, True
    charger.plug_in(30.0)
    if washer:
        machine.start("cotton_40")
