"""Readings per second through the agent API into PostgreSQL, against raw COPY, in one run.

The server runs as in production: uvicorn with one worker per core on the ASGI app,
production settings, Redis for nonces and rate limits when REDIS_URL is set. Clients
send signed batches of what a box really uploads: five minutes of a DSMR 5 meter
(one telegram a second) and four devices every ten seconds. The baseline sends the
same rows through psycopg COPY, one connection per core, one transaction per batch.
Needs PostgreSQL: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _django
from _fleet import METER_ID, bench_household, bench_tenant, paired_box

ROOT = Path(__file__).resolve().parent.parent
CORES = os.cpu_count() or 1
GATEWAYS = int(os.environ.get("BENCH_GATEWAYS", "8"))
BATCHES_PER_GATEWAY = int(os.environ.get("BENCH_BATCHES", "6"))
METER_READINGS = 300  # five minutes at one telegram a second
DEVICES = 4
DEVICE_READINGS = 30  # every ten seconds for five minutes


def require_postgres() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/postgres"


def build_fleet() -> list[dict]:
    """Gateways claimed, keyed and paired through the services, as in the field."""
    from apps.devices.models import Device

    tenant, admin = bench_tenant()
    boxes = []
    for n in range(GATEWAYS):
        household = bench_household(tenant, n)
        devices = [
            Device.objects.create(household=household, name=f"D{d}", kind="smart_plug",
                                  rated_power_w=2000)
            for d in range(DEVICES)
        ]  # fmt: skip
        box = paired_box(
            tenant=tenant, admin=admin, household=household, serial=f"HEB-BENCH-{n:04d}"
        )
        boxes.append(
            {
                "serial": box.serial,
                "key_id": box.key_id,
                "secret": box.secret,
                "household_id": str(household.pk),
                "gateway_id": str(box.gateway.pk),
                "devices": [str(d.pk) for d in devices],
            }
        )
    return boxes


def batch_body(box: dict, start: datetime) -> bytes:
    meter = [
        {
            "timestamp": (start + timedelta(seconds=s)).isoformat(),
            "meter_id": METER_ID,
            "import_wh": {"1": 1_000_000 + s, "2": 2_000_000},
            "export_wh": {"1": 5_000, "2": 7_000 + s},
            "import_w": 400 + s % 50,
            "voltage_v": [230.1, 229.8, 231.0],
            "current_a": [1.2, 0.8, 2.1],
            "tariff": "1",
        }
        for s in range(METER_READINGS)
    ]
    devices = [
        {"device_id": device, "timestamp": (start + timedelta(seconds=10 * i)).isoformat(),
         "power_w": 100 + i, "energy_wh": 1000 + i, "on": True}
        for device in box["devices"]
        for i in range(DEVICE_READINGS)
    ]  # fmt: skip
    body = {"batch_id": str(uuid.uuid4()), "serial": box["serial"], "meter": meter,
            "devices": devices}  # fmt: skip
    return json.dumps(body).encode()


def rows_per_batch() -> int:
    return METER_READINGS + DEVICES * DEVICE_READINGS


# The server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": base64.urlsafe_b64encode(os.urandom(40)).decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # loopback without TLS, for the bench only
        "DATABASE_CONN_MAX_AGE": "60",
        "AGENT_RATE_LIMIT": "1000000/min",
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(CORES), "--log-level", "warning",
         "--no-access-log"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the uvicorn server did not start")


def send(port: int, box: dict, body: bytes, local: threading.local) -> int:
    from gateway_agent import signing

    path = "/api/agent/v1/telemetry/"
    headers = signing.signed_headers(
        serial=box["serial"], key_id=box["key_id"], secret=box["secret"], method="POST",
        path=path, body=body,
    )  # fmt: skip
    if not hasattr(local, "connection"):
        local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    local.connection.request(
        "POST", path, body=body, headers={**headers, "Content-Type": "application/json"}
    )
    response = local.connection.getresponse()
    response.read()
    return response.status


def api_rows_per_s(port: int, work: list[tuple[dict, bytes]]) -> float:
    local = threading.local()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2 * CORES) as pool:
        statuses = list(pool.map(lambda job: send(port, job[0], job[1], local), work))
    elapsed = time.perf_counter() - started
    refused = [s for s in statuses if s != 201]
    if refused:
        raise SystemExit(f"the API refused {len(refused)} batches: {sorted(set(refused))}")
    return len(work) * rows_per_batch() / elapsed


# The baseline ---------------------------------------------------------------------------


def copy_rows_per_s(work: list[tuple[dict, bytes]]) -> float:
    """The same rows, straight into the same tables with COPY: the ceiling for ingest."""
    import psycopg
    from psycopg.types.json import Jsonb

    url = os.environ["DATABASE_URL"]
    from apps.telemetry.services import DEVICE_COLUMNS, METER_COLUMNS

    # The ingest's own column lists: the rows below follow their order.
    meter_cols = ", ".join(f'"{column}"' for column in METER_COLUMNS)
    device_cols = ", ".join(f'"{column}"' for column in DEVICE_COLUMNS)

    def copy_batch(job: tuple[dict, bytes], local: threading.local) -> None:
        box, body = job
        data = json.loads(body)
        batch_id = uuid.uuid4()
        if not hasattr(local, "connection"):
            local.connection = psycopg.connect(url)
        with local.connection.transaction(), local.connection.cursor() as cursor:
            with cursor.copy(f"COPY telemetry_meterreading ({meter_cols}) FROM STDIN") as copy:
                for seq, r in enumerate(data["meter"]):
                    copy.write_row((
                        box["household_id"], box["gateway_id"], batch_id, seq, r["timestamp"],
                        r["meter_id"], Jsonb(r["import_wh"]), Jsonb(r["export_wh"]),
                        r["import_w"], 0, Jsonb(r["voltage_v"]), Jsonb(r["current_a"]), r["tariff"],
                    ))  # fmt: skip
            with cursor.copy(f"COPY telemetry_devicereading ({device_cols}) FROM STDIN") as copy:
                for seq, r in enumerate(data["devices"]):
                    copy.write_row((
                        box["household_id"], r["device_id"], batch_id, seq, r["timestamp"],
                        r["power_w"], r["energy_wh"], r["on"], None,
                    ))  # fmt: skip

    local = threading.local()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CORES) as pool:
        list(pool.map(lambda job: copy_batch(job, local), work))
    return len(work) * rows_per_batch() / (time.perf_counter() - started)


def main() -> None:
    require_postgres()
    from cryptography.fernet import Fernet

    # The bench process issues the keys and the server checks them: one key store for both.
    os.environ["GATEWAY_SECRET_KEYS"] = Fernet.generate_key().decode()
    _django.setup()
    if _django.vendor() != "postgresql":
        raise SystemExit("bench ingest needs PostgreSQL")
    boxes = build_fleet()
    from django.db import connections

    connections.close_all()
    start = datetime(2026, 11, 28, tzinfo=UTC)
    work = [
        (box, batch_body(box, start + timedelta(minutes=5 * b)))
        for b in range(BATCHES_PER_GATEWAY)
        for box in boxes
    ]
    port = free_port()
    server = start_server(port)
    try:
        api = api_rows_per_s(port, work[: len(boxes)])  # warm the workers, then measure
        api = api_rows_per_s(port, work[len(boxes) :])
    finally:
        server.terminate()
        server.wait(timeout=30)
    copy = copy_rows_per_s(work[len(boxes) :])
    print(f"{len(work) - len(boxes)} batches of {rows_per_batch()} rows, {CORES} cores")
    print(
        json.dumps(
            {
                "bench": "ingest",
                "api_rows_per_s": round(api),
                "copy_rows_per_s": round(copy),
                "ratio": round(api / copy, 3),
                "rows_per_batch": rows_per_batch(),
                "batches": len(work) - len(boxes),
                "workers": CORES,
                "redis": bool(os.environ.get("REDIS_URL")),
            }
        )
    )


if __name__ == "__main__":
    main()
