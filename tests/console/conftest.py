"""A provisioned box in our household, with a pairing request, an alarm and a command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from apps.fleet import services
from apps.fleet.models import (
    AlarmKind,
    Gateway,
    GatewayAlarm,
    GatewayCommand,
    GatewayCredential,
    MeterPairing,
)
from tests.conftest import World, mfa_login

CLAIM_CODE = "ABCD2345EFGH"
METER_ID = "1SAG1100042181"


@dataclass
class Box:
    gateway: Gateway
    credential: GatewayCredential
    secret: str  # what the box received; must never appear in a page


def login(world: World, role: str | None) -> Client:
    client = Client()
    if role is not None:
        mfa_login(client, world.users[role])
    return client


@pytest.fixture
def box(world: World) -> Box:
    """Claimed by the installer, provisioned, heard from a minute ago on 3G."""
    services.gateway_register(
        tenant=world.home_tenant, serial="HEB-BE-90001", claim_code=CLAIM_CODE
    )
    services.gateway_claim(
        user=world.users["installer"],
        household=world.household,
        serial="HEB-BE-90001",
        claim_code=CLAIM_CODE,
    )
    issued, gateway = services.gateway_provision(serial="HEB-BE-90001", claim_code=CLAIM_CODE)
    Gateway.objects.filter(pk=gateway.pk).update(
        firmware_version="2.1.0",
        connectivity="3g",
        signal_dbm=-85,
        latency_ms=240,
        outbox_depth=7,
        meter_id_seen=METER_ID,
        last_seen_at=timezone.now() - timedelta(minutes=1),
    )
    gateway.refresh_from_db()
    return Box(gateway, issued.credential, issued.secret)


@pytest.fixture
def requested(world: World, box: Box) -> MeterPairing:
    return services.pairing_request(user=world.users["household_owner"], gateway=box.gateway)


@pytest.fixture
def alarm(box: Box) -> GatewayAlarm:
    alarm = services.alarm_raise(
        gateway=box.gateway, kind=AlarmKind.WRONG_METER, message="Readings from meter 9XYZ"
    )
    assert alarm is not None
    return alarm


@pytest.fixture
def command(world: World, box: Box) -> GatewayCommand:
    return GatewayCommand.objects.create(
        gateway=box.gateway,
        household=world.household,
        device=world.devices["ours"],
        kind="switch",
        params={"on": False},
        status="received",
    )


@pytest.fixture
def abroad_pairing(world: World) -> MeterPairing:
    gateway = world.gateways["abroad"]
    return services.pairing_request(user=world.users["abroad_owner"], gateway=gateway)


@pytest.fixture
def abroad_alarm(world: World) -> GatewayAlarm:
    alarm = services.alarm_raise(
        gateway=world.gateways["abroad"], kind=AlarmKind.BAD_SIGNATURE, message="bad"
    )
    assert alarm is not None
    return alarm


def messages_of(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""
