"""A box on the bench: registered, claimed by the installer, provisioned, paired."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from django.test import Client

from apps.fleet import services
from apps.fleet.models import Gateway
from gateway_agent import protocol, signing
from tests.conftest import World

CLAIM_CODE = "ABCD2345EFGH"
METER_ID = "1SAG1100042181"
AGENT = "/api/agent/v1/"


@dataclass
class Box:
    gateway: Gateway
    key_id: str
    secret: str
    client: Client = field(default_factory=Client)

    def call(
        self, method: str, path: str, body: bytes = b"", *, headers: dict[str, str] | None = None
    ) -> Any:
        signed = signing.signed_headers(
            serial=self.gateway.serial,
            key_id=self.key_id,
            secret=base64.urlsafe_b64decode(self.secret),
            method=method,
            path=AGENT + path,
            body=body,
        )
        return self.client.generic(
            method,
            AGENT + path,
            data=body,
            content_type="application/json",
            headers={**signed, **(headers or {})},
        )

    def post(self, path: str, message: Any) -> Any:
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        return self.call("POST", path, body)

    def heartbeat(self, **fields: Any) -> Any:
        beat = {
            "serial": self.gateway.serial,
            "firmware_version": "2.1.0",
            "uptime_s": 3600,
            "connectivity": "3g",
            "signal_dbm": -85,
            "latency_ms": 240,
            "outbox_depth": 3,
            **fields,
        }
        return self.post("heartbeat/", beat)


def provision(serial: str, claim_code: str = CLAIM_CODE) -> Any:
    body = msgspec.json.encode(protocol.ProvisionRequest(serial=serial, claim_code=claim_code))
    return Client().post(AGENT + "provision/", data=body, content_type="application/json")


def meter_reading(meter_id: str = METER_ID, **fields: Any) -> dict[str, Any]:
    return {
        "timestamp": "2026-11-28T12:00:00Z",
        "meter_id": meter_id,
        "import_wh": {"1": 1_234_567, "2": 2_345_678},
        "export_wh": {"1": 12_000, "2": 5_000},
        "import_w": 1840,
        "voltage_v": [231.2, 229.8, 230.4],
        "current_a": [3.1, 2.2, 2.9],
        "tariff": "2",
        **fields,
    }


def batch(box: Box, *, meter: list | None = None, devices: list | None = None) -> dict:
    import uuid

    return {
        "batch_id": str(uuid.uuid4()),
        "serial": box.gateway.serial,
        "meter": [meter_reading()] if meter is None else meter,
        "devices": devices or [],
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@pytest.fixture
def unclaimed(world: World) -> Gateway:
    return services.gateway_register(
        tenant=world.home_tenant, serial="HEB-BE-90001", claim_code=CLAIM_CODE
    )


@pytest.fixture
def box(world: World, unclaimed: Gateway) -> Box:
    services.gateway_claim(
        user=world.users["installer"],
        household=world.household,
        serial=unclaimed.serial,
        claim_code=CLAIM_CODE,
    )
    response = provision(unclaimed.serial)
    assert response.status_code == 200, response.content
    credential = response.json()["credential"]
    unclaimed.refresh_from_db()
    return Box(unclaimed, credential["key_id"], credential["secret"])


@pytest.fixture
def paired_box(world: World, box: Box) -> Box:
    pairing = services.pairing_request(user=world.users["household_owner"], gateway=box.gateway)
    services.pairing_approve(user=world.users["dso_staff"], pairing=pairing, meter_id=METER_ID)
    return box
