"""Live flows end to end: real uvicorn processes, a signed ingest, a real WebSocket client.

Two server processes share the pytest-django test database (transactional_db, so what a
test writes is committed and visible to them) and Redis (channel layer and cache, with
the test process's cache key prefix). A batch POSTed to one server must reach the
household's sockets on both; readers without raw access never get a socket; a reader
whose grant goes loses an open socket at once (apps.live.signals → `access.changed`).

Each server's log is printed at teardown, which pytest shows only when a test fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from apps.devices.models import Device
from apps.fleet import services as fleet_services
from apps.households import services as household_services
from tests.conftest import World, service_unavailable
from tests.factories import UserFactory
from tests.live.servers import (
    Box,
    NoFrame,
    ServerProcess,
    database_url,
    new_batch_id,
    open_socket,
    post_batch,
    receive_until,
    refusal,
    secret_bytes,
    start_server,
    wait_closed,
)

CLAIM_CODE = "LIVE2345EFGH"
METER_ID = "1SAG1100042181"
FRAME_TIMEOUT_S = 15.0


# Servers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server_pair(
    django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, ServerProcess]]:
    """Servers A and B, started once for the module on the test database and Redis."""
    redis_url = os.environ.get("REDIS_URL", "")
    if connection.vendor != "postgresql" or not redis_url:
        service_unavailable("the live servers need DATABASE_URL on PostgreSQL and REDIS_URL")
    logs = tmp_path_factory.mktemp("live-servers")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": redis_url,
        # The same cache as the test process: nonces, throttles, the last frame.
        "TEST_CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "DJANGO_LOG_LEVEL": "INFO",
    }
    servers: dict[str, ServerProcess] = {}
    try:
        for name in ("A", "B"):
            servers[name] = start_server(name=name, env=env, log_path=Path(logs) / f"{name}.log")
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture
def servers(
    server_pair: dict[str, ServerProcess], postgres: None, redis_url: str, transactional_db: None
) -> Iterator[dict[str, ServerProcess]]:
    for server in server_pair.values():
        if server.process.poll() is not None:
            pytest.fail(f"server {server.name} died:\n{server.log()}")
        server.set_mark()
    yield server_pair
    for server in server_pair.values():  # shown by pytest only when the test failed
        print(f"----- server {server.name} (port {server.port}) log of this test -----")
        print(server.log(since_mark=True))


# The household's box and readers -----------------------------------------------------------


@pytest.fixture
def box(world: World, servers: dict[str, ServerProcess]) -> Box:
    """A gateway claimed by the installer, provisioned and paired, with PV and a battery."""
    household = world.household
    serial = "HEB-BE-LIVE-0001"
    fleet_services.gateway_register(tenant=world.home_tenant, serial=serial, claim_code=CLAIM_CODE)
    gateway = fleet_services.gateway_claim(
        user=world.users["installer"], household=household, serial=serial, claim_code=CLAIM_CODE
    )
    issued, _ = fleet_services.gateway_provision(serial=serial, claim_code=CLAIM_CODE)
    pairing = fleet_services.pairing_request(user=world.users["household_owner"], gateway=gateway)
    fleet_services.pairing_approve(
        user=world.users["dso_staff"], pairing=pairing, meter_id=METER_ID
    )
    devices = {
        role: Device.objects.create(
            household=household, gateway=gateway, name=name, kind=kind, rated_power_w=3000
        )
        for role, name, kind in (
            ("pv", "Roof", "pv_inverter"),
            ("battery", "Battery", "battery"),
            ("oven", "Oven", "appliance"),
        )
    }
    return Box(
        serial=serial,
        key_id=issued.credential.key_id,
        secret=secret_bytes(issued.secret),
        meter_id=METER_ID,
        household_id=str(household.pk),
        devices={role: str(device.pk) for role, device in devices.items()},
    )


def session_key(user: Any) -> str:
    """A real session in the database the servers read, as a login would leave."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def meter(time: datetime, *, import_w: int, export_w: int) -> dict[str, Any]:
    return {
        "timestamp": time.isoformat(),
        "meter_id": METER_ID,
        "import_wh": {"1": 1_234_567, "2": 2_345_678},
        "export_wh": {"1": 12_000, "2": 5_000},
        "import_w": import_w,
        "export_w": export_w,
        "voltage_v": [231.2, 229.8, 230.4],
        "current_a": [3.1, 2.2, 2.9],
        "tariff": "2",
    }


def sunny_batch(box: Box) -> dict[str, Any]:
    """The newest meter reading comes first in the list: the frame must pick it by time."""
    now = datetime.now(UTC).replace(microsecond=0)
    newest, older = now - timedelta(seconds=1), now - timedelta(seconds=11)
    d = box.devices
    return {
        "batch_id": new_batch_id(),
        "serial": box.serial,
        "meter": [
            meter(newest, import_w=0, export_w=700),
            meter(older, import_w=2600, export_w=0),
        ],
        "devices": [
            {"device_id": d["pv"], "timestamp": older.isoformat(), "power_w": 900},
            {"device_id": d["pv"], "timestamp": newest.isoformat(), "power_w": 2500},
            {"device_id": d["battery"], "timestamp": newest.isoformat(), "power_w": 300,
             "soc_pct": 64.5},
            {"device_id": d["oven"], "timestamp": newest.isoformat(), "power_w": 1200, "on": True},
        ],
    }  # fmt: skip


def ingest(server: ServerProcess, box: Box, batch: dict[str, Any] | None = None) -> str:
    batch = batch or sunny_batch(box)
    status, body = post_batch(server.port, box, batch)
    assert status == 201, (status, body, server.log(since_mark=True))
    return str(batch["batch_id"])


def flows_of(batch_id: str) -> Any:
    return lambda m: m.get("type") == "flows" and m.get("batch_id") == batch_id


def hello(ws: Any, household_id: str) -> dict[str, Any]:
    message, before = receive_until(ws, lambda m: m.get("type") == "hello", timeout=10)
    assert before == [] and message["household"] == household_id
    return message


def expect_frame(ws: Any, batch_id: str, servers: dict[str, ServerProcess]) -> dict[str, Any]:
    try:
        frame, _ = receive_until(ws, flows_of(batch_id), timeout=FRAME_TIMEOUT_S)
    except NoFrame as missing:
        logs = "\n".join(f"--- {s.name} ---\n{s.log(since_mark=True)}" for s in servers.values())
        raise AssertionError(f"{missing}\nserver logs:\n{logs}") from None
    return frame


# Tests -----------------------------------------------------------------------------------


def test_a_signed_batch_reaches_the_households_socket_with_its_newest_reading(
    world: World, box: Box, servers: dict[str, ServerProcess]
) -> None:
    server = servers["A"]
    with open_socket(server, box.household_id, session_key(world.users["household_owner"])) as ws:
        assert hello(ws, box.household_id)["last"] is None  # nothing ingested yet
        batch = sunny_batch(box)
        batch_id = ingest(server, box, batch)
        frame = expect_frame(ws, batch_id, servers)

    newest = batch["meter"][0]
    assert frame["household"] == box.household_id
    assert datetime.fromisoformat(frame["time"]) == datetime.fromisoformat(newest["timestamp"])
    assert (frame["grid_import_w"], frame["grid_export_w"]) == (0, 700)
    assert (frame["pv_w"], frame["battery_w"], frame["battery_soc_pct"]) == (2500, 300, 64.5)
    assert frame["house_w"] == 0 + 2500 - 700 - 300
    assert frame["self_consumption_w"] == 2500 - 700
    assert [(d["name"], d["power_w"], d["on"]) for d in frame["devices"]] == [("Oven", 1200, True)]
    assert frame["stale"] is False and frame["last_seen"] is not None
    assert frame["overload"]["level"] == "ok"

    # A socket opened later starts from that frame.
    with open_socket(server, box.household_id, session_key(world.users["household_member"])) as ws:
        assert hello(ws, box.household_id)["last"]["batch_id"] == batch_id


def test_a_batch_ingested_on_one_server_reaches_sockets_on_both(
    world: World, box: Box, servers: dict[str, ServerProcess]
) -> None:
    a, b = servers["A"], servers["B"]
    owner, member = world.users["household_owner"], world.users["household_member"]
    with (
        open_socket(b, box.household_id, session_key(owner)) as on_b,
        open_socket(a, box.household_id, session_key(member)) as on_a,
    ):
        hello(on_b, box.household_id)
        hello(on_a, box.household_id)
        from_a = ingest(a, box)
        assert expect_frame(on_b, from_a, servers)["grid_export_w"] == 700
        assert expect_frame(on_a, from_a, servers)["batch_id"] == from_a
        from_b = ingest(b, box)  # and the other way round
        assert expect_frame(on_a, from_b, servers)["batch_id"] == from_b
        assert expect_frame(on_b, from_b, servers)["batch_id"] == from_b


def test_readers_without_raw_access_to_the_household_get_no_socket(
    world: World, box: Box, servers: dict[str, ServerProcess]
) -> None:
    server = servers["B"]
    refused = {
        role: refusal(server, box.household_id, session_key(world.users[role]))
        for role in ("neighbour_owner", "abroad_owner", "installer", "third_party")
    }
    refused["anonymous"] = refusal(server, box.household_id, None)
    # The consumer closes before accept (code 4404); an ASGI server must then answer the
    # handshake with HTTP 403, so the 4404 never reaches the client.
    assert set(refused.values()) <= {"http 403", "close 4404"}, refused
    # The same refusal for a household that does not exist.
    assert refusal(server, world.neighbour.pk, session_key(world.users["household_owner"])) in {
        "http 403",
        "close 4404",
    }
    # Control: the owner is let in, so the refusals above are about access, not the setup.
    with open_socket(server, box.household_id, session_key(world.users["household_owner"])) as ws:
        hello(ws, box.household_id)
        batch_id = ingest(servers["A"], box)
        expect_frame(ws, batch_id, servers)


def test_a_reader_whose_grant_goes_loses_the_open_socket(
    world: World, box: Box, servers: dict[str, ServerProcess]
) -> None:
    household = world.household
    owner, member = world.users["household_owner"], world.users["household_member"]
    second_owner = UserFactory(username="owner2", role="household_owner", tenant=world.home_tenant)
    household_services.household_add_owner(household=household, user=second_owner)
    with (
        open_socket(servers["A"], box.household_id, session_key(member)) as member_ws,
        open_socket(servers["B"], box.household_id, session_key(owner)) as owner_ws,
        open_socket(servers["A"], box.household_id, session_key(second_owner)) as staying,
    ):
        for ws in (member_ws, owner_ws, staying):
            hello(ws, box.household_id)

        # An owner removes the member: the member's socket closes, the others stay.
        household_services.member_remove(household=household, user=member, removed_by=owner)
        code, _ = wait_closed(member_ws)
        assert code == 4403
        batch_id = ingest(servers["B"], box)
        expect_frame(owner_ws, batch_id, servers)
        expect_frame(staying, batch_id, servers)

        # The other owner removes the first: its socket, on the other server, closes.
        household_services.member_remove(household=household, user=owner, removed_by=second_owner)
        code, _ = wait_closed(owner_ws)
        assert code == 4403
        batch_id = ingest(servers["A"], box)
        expect_frame(staying, batch_id, servers)

    # And the removed member cannot come back.
    assert refusal(servers["A"], box.household_id, session_key(member)) in {
        "http 403",
        "close 4404",
    }


def test_a_deactivated_account_loses_the_open_socket(
    world: World, box: Box, servers: dict[str, ServerProcess]
) -> None:
    member = world.users["household_member"]
    with (
        open_socket(servers["B"], box.household_id, session_key(member)) as member_ws,
        open_socket(
            servers["A"], box.household_id, session_key(world.users["household_owner"])
        ) as owner_ws,
    ):
        hello(member_ws, box.household_id)
        hello(owner_ws, box.household_id)
        member.is_active = False
        member.save()
        code, _ = wait_closed(member_ws)
        assert code == 4403
        expect_frame(owner_ws, ingest(servers["B"], box), servers)
