"""Virtual gateways for the demo households, run against a live server (simulate_fleet).

Each box goes through the real link: a fresh claim code, a claim, provisioning over
HTTP, then signed uploads through the agent API. Simulated time runs `speed` times
faster from `backfill` ago and never passes the present: the platform refuses
readings from the future.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from apps.devices.models import Device, DeviceKind
from apps.fleet import secrets, services
from apps.fleet.models import Gateway, PairingStatus
from apps.tenants.models import MeterProtocol

AGENT_PROTOCOL: dict[str, str] = {
    MeterProtocol.P1_EMUCS: "p1-be",
    MeterProtocol.LINKY_TIC: "linky-standard",
    MeterProtocol.SMETS2_CAD: "smets2-cad",
}
LOCATIONS = {  # a representative city per country, for the PV model
    "BE": (50.85, 4.35, "Europe/Brussels"),
    "FR": (48.86, 2.35, "Europe/Paris"),
    "GB": (51.51, -0.13, "Europe/London"),
}
APPLIANCE_BY_NAME = {
    "Washing machine": "washing_machine",
    "Dishwasher": "dishwasher",
    "Oven": "oven",
    "Tumble dryer": "tumble_dryer",
}


@dataclass
class Runner:
    """One virtual box and the thread that paces it."""

    box: Any  # gateway_agent.simulator.virtual.VirtualGateway
    thread: threading.Thread | None = None
    error: str = ""


def fleet_for_simulation(count: int, tenant_slug: str | None = None) -> list[Gateway]:
    """Claimed gateways with an approved meter pairing, in a stable order."""
    gateways = Gateway.objects.filter(
        household__isnull=False, pairings__status=PairingStatus.APPROVED
    ).select_related("household", "tenant")
    if tenant_slug:
        gateways = gateways.filter(tenant__slug=tenant_slug)
    return list(gateways.order_by("tenant__slug", "serial").distinct()[:count])


def device_configs(gateway: Gateway) -> list[Any]:
    from gateway_agent.config import DeviceConfig

    configs = []
    for device in Device.objects.filter(household=gateway.household).order_by("name"):
        kind, extra = device.kind, dict[str, Any]()
        if kind == DeviceKind.APPLIANCE:
            appliance = APPLIANCE_BY_NAME.get(device.name)
            kind, extra = (
                ("appliance", {"appliance": appliance}) if appliance else ("smart_plug", {})
            )
        if kind == DeviceKind.PV_INVERTER:
            extra = {"kwp": round(device.rated_power_w * 1.1 / 1000, 1)}
        configs.append(
            DeviceConfig(
                id=device.pk,
                kind=str(kind),
                rated_w=device.rated_power_w,
                name=device.name,
                **extra,
            )
        )
    return configs


def prepare(*, gateway: Gateway, admin: Any, server_url: str, speed: float, start: datetime,
            seed: int) -> Any:  # fmt: skip
    """A new claim code and claim for the box, then its virtual twin, provisioned."""
    from gateway_agent.config import LocationConfig
    from gateway_agent.simulator.virtual import VirtualGateway

    code = services.new_claim_code()
    Gateway.objects.filter(pk=gateway.pk).update(claim_code_hash=secrets.hash_claim_code(code))
    household = gateway.household
    assert household is not None
    services.gateway_claim(user=admin, household=household, serial=gateway.serial, claim_code=code)
    latitude, longitude, zone = LOCATIONS.get(gateway.tenant.country, LOCATIONS["BE"])
    box = VirtualGateway.create(
        server_url,
        gateway.serial,
        code,
        household_id=household.pk,
        devices=device_configs(gateway),
        seed=seed + uuid.UUID(str(gateway.pk)).int % 10_000,
        speed=speed,
        start=start,
        meter_id=services.paired_meter_id(gateway=gateway),
        protocol=AGENT_PROTOCOL.get(gateway.tenant.meter_protocol, "p1-be"),
        location=LocationConfig(latitude=latitude, longitude=longitude, timezone=zone),
        intervals=intervals_for(speed),
    )
    return box


def intervals_for(speed: float) -> Any:
    """Upload every simulated minute, but no more often than every 2 real seconds: a fast
    backfill must stay inside the per-gateway rate limit, as a real box would."""
    from gateway_agent.config import IntervalsConfig

    return IntervalsConfig(
        upload_every_s=max(60.0, 2 * speed),
        heartbeat_every_s=max(120.0, 10 * speed),
        commands_every_s=max(60.0, 5 * speed),
        device_every_s=60.0,
    )


def pace(runner: Runner, *, speed: float, stop: threading.Event, tick_s: float = 1.0) -> None:
    """Advance the box `speed` x real time, but never past the present."""
    try:
        while not runner.box.provision():
            if stop.wait(5):
                return
        while not stop.is_set():
            behind = (timezone.now() - runner.box.now()).total_seconds()
            if behind > 0:
                runner.box.step(min(speed * tick_s, behind))
            stop.wait(tick_s)
    except Exception as error:  # a box that breaks is reported, not the whole fleet
        runner.error = f"{type(error).__name__}: {error}"


def start_fleet(
    *, gateways: list[Gateway], admin: Any, server_url: str, speed: float, backfill: timedelta,
    seed: int, stop: threading.Event,
) -> list[Runner]:  # fmt: skip
    start = timezone.now() - backfill
    runners = [
        Runner(prepare(gateway=g, admin=admin, server_url=server_url, speed=speed, start=start,
                       seed=seed))
        for g in gateways
    ]  # fmt: skip
    for runner in runners:
        runner.thread = threading.Thread(
            target=pace, args=(runner,), kwargs={"speed": speed, "stop": stop}, daemon=True
        )
        runner.thread.start()
    return runners


def progress_line(runners: list[Runner]) -> str:
    provisioned = sum(r.box.provisioned for r in runners)
    sent = sum(r.box.stats.readings_sent for r in runners)
    queued = sum(r.box.outbox_depth for r in runners)
    failed = sum(bool(r.error) for r in runners)
    behind = max(((timezone.now() - r.box.now()).total_seconds() for r in runners), default=0)
    return (
        f"boxes {provisioned}/{len(runners)} online · readings sent {sent} · queued {queued}"
        f" · catching up {max(behind, 0) / 60:.0f} min · failed {failed}"
    )
