"""Appliance programmes as power curves of measured shape (plain Python, no pandas).

Shapes after published appliance measurements (e.g. the ECO and REDD data sets): a washing
machine heats its water first at the heater's full power (about 2 kW for 15-25 minutes),
then tumbles at 100-250 W with pauses and spins at 300-600 W; a dishwasher heats twice
(wash, then the hot rinse) with a pump at 60-100 W between; an oven preheats at full power
and then holds its temperature by switching the element on and off.
The heater phases use the device's rated power; motor and pump phases are what they are.
"""

from __future__ import annotations

from gateway_agent.devices import Phase

Programs = dict[str, list[Phase]]


def _alternate(
    total_s: float, high_w: float, low_w: float, on_s: float, off_s: float, name: str
) -> list[Phase]:
    """A drum tumbling and resting, an oven element cycling: on/off pairs for `total_s`."""
    phases: list[Phase] = []
    elapsed = 0.0
    while elapsed < total_s:
        phases.append(Phase(min(on_s, total_s - elapsed), high_w, name))
        elapsed += on_s
        if elapsed < total_s:
            phases.append(Phase(min(off_s, total_s - elapsed), low_w, name))
            elapsed += off_s
    return phases


def washing_machine(rated_w: int) -> tuple[Programs, str]:
    def cycle(heat_min: float, wash_min: float) -> list[Phase]:
        return [
            Phase(180, 20, "fill"),
            Phase(heat_min * 60, rated_w, "heat"),
            *_alternate(wash_min * 60, 220, 70, 90, 30, "wash"),
            Phase(10 * 60, 120, "rinse"),
            Phase(10 * 60, 110, "rinse"),
            Phase(4 * 60, 320, "spin"),
            Phase(4 * 60, 560, "spin"),
        ]

    return {
        "cotton_40": cycle(15, 35),
        "cotton_60": cycle(25, 40),
        "eco": cycle(10, 60),
    }, "cotton_40"


def dishwasher(rated_w: int) -> tuple[Programs, str]:
    def cycle(heat_min: float, rinse_heat_min: float) -> list[Phase]:
        return [
            Phase(10 * 60, 60, "prewash"),
            Phase(heat_min * 60, rated_w, "heat"),
            Phase(30 * 60, 90, "wash"),
            Phase(rinse_heat_min * 60, rated_w, "hot rinse"),
            Phase(30 * 60, 10, "dry"),
        ]

    return {"normal": cycle(20, 15), "eco": cycle(12, 10), "intensive": cycle(28, 18)}, "eco"


def oven(rated_w: int) -> tuple[Programs, str]:
    def bake(minutes: float, duty: float) -> list[Phase]:
        on_s = 120 * duty
        return [
            Phase(12 * 60, rated_w, "preheat"),
            *_alternate(minutes * 60, rated_w, 0, on_s, 120 - on_s, "bake"),
        ]

    return {
        "bake_180": bake(45, 0.35),
        "bake_220": bake(60, 0.5),
        "grill": bake(20, 0.8),
    }, "bake_180"


def tumble_dryer(rated_w: int) -> tuple[Programs, str]:
    cotton = [
        *_alternate(70 * 60, rated_w, 250, 240, 60, "dry"),
        Phase(10 * 60, 200, "cool down"),
    ]
    return {"cotton": cotton}, "cotton"


BUILDERS = {
    "washing_machine": washing_machine,
    "dishwasher": dishwasher,
    "oven": oven,
    "tumble_dryer": tumble_dryer,
}


def programs_for(appliance: str, rated_w: int) -> tuple[Programs, str]:
    """The programmes of an appliance and its default one."""
    return BUILDERS[appliance](rated_w)


def energy_wh(phases: list[Phase]) -> float:
    return sum(phase.power_w * phase.duration_s for phase in phases) / 3600
