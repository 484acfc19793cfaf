"""The household simulator: realistic loads, PV and devices behind a simulated meter.

The only place pandas, numpy, pvlib and demandlib are used; the agent imports this package
only when its configuration lists simulated devices or a simulated meter.
"""

from __future__ import annotations

from pathlib import Path

from gateway_agent.config import AgentConfig
from gateway_agent.simulator.household import SimulatedHousehold


def build_household(config: AgentConfig, state_dir: Path | None = None) -> SimulatedHousehold:
    return SimulatedHousehold(config, state_dir)


__all__ = ["SimulatedHousehold", "build_household"]
