"""Live frame latency: from a box's POST to the household's browsers, across two servers.

Two uvicorn processes (one worker each, production settings) share PostgreSQL and Redis
(the channel layer: Redis pub/sub). BENCH_SOCKETS authenticated WebSockets (default
1,000) watch BENCH_HOUSEHOLDS households (default one per ten sockets), each household's
sockets split between the two servers. Signed batches, each with a meter reading, are
POSTed through the agent API at BENCH_RATE batches a second (default 25), alternating
servers and households, BENCH_BATCHES in all (default 300). For every socket that should
get a batch's flows frame, the latency runs from just before the POST to the frame's
receipt, matched by batch_id; a frame still missing after BENCH_DRAIN_S (default 15 s)
counts as dropped, and any dropped frame fails the run. Client and servers share the
machine's cores, so the figures include that contention.

Needs PostgreSQL (DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres) and
Redis (REDIS_URL, else redis://127.0.0.1:6379/0). Rollup tasks go to an in-process memory
broker in the servers: no worker runs here, and none should find them in a shared Redis.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _django
from _fleet import METER_ID, bench_household, bench_tenant, paired_box

ROOT = Path(__file__).resolve().parent.parent
SOCKETS = int(os.environ.get("BENCH_SOCKETS", "1000"))
HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", str(max(1, SOCKETS // 10))))
BATCHES = int(os.environ.get("BENCH_BATCHES", "300"))
RATE = float(os.environ.get("BENCH_RATE", "25"))  # batches offered per second
IN_FLIGHT = int(os.environ.get("BENCH_IN_FLIGHT", "4"))  # POSTs at once, at most
DRAIN_S = float(os.environ.get("BENCH_DRAIN_S", "15"))
CONNECTING = 64  # socket handshakes at once
SERVERS = 2
METER_READINGS = 10  # ten seconds of telegrams per batch
TELEMETRY = "/api/agent/v1/telemetry/"


def require_services() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/postgres"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")


# The fleet -------------------------------------------------------------------------------


@dataclass
class Home:
    household_id: str
    serial: str
    key_id: str
    secret: bytes
    device_id: str
    session_key: str
    sockets: list[int] = field(default_factory=list)  # indexes into the socket list


def build_fleet() -> list[Home]:
    """Households with an owner (a real session each) and a claimed, paired, keyed box."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from apps.accounts.models import User
    from apps.devices.models import Device
    from apps.households.services import household_add_owner

    tenant, admin = bench_tenant()
    homes = []
    for n in range(HOUSEHOLDS):
        household = bench_household(tenant, n)
        owner = User.objects.create(username=f"owner{n}", role="household_owner", tenant=tenant)
        household_add_owner(household=household, user=owner)
        device = Device.objects.create(
            household=household, name="Washer", kind="smart_plug", rated_power_w=2000
        )
        box = paired_box(
            tenant=tenant, admin=admin, household=household, serial=f"HEB-LIVE-{n:05d}"
        )
        session = SessionStore()
        session[SESSION_KEY] = str(owner.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
        session.create()
        homes.append(
            Home(
                household_id=str(household.pk),
                serial=box.serial,
                key_id=box.key_id,
                secret=box.secret,
                device_id=str(device.pk),
                session_key=str(session.session_key),
            )
        )
    return homes


def batch_body(home: Home, n: int) -> tuple[str, bytes]:
    now = datetime.now(UTC)
    newest = now - timedelta(seconds=1)
    meter = [
        {
            "timestamp": (newest - timedelta(seconds=s)).isoformat(),
            "meter_id": METER_ID,
            "import_wh": {"1": 1_000_000 + n, "2": 2_000_000},
            "export_wh": {"1": 5_000, "2": 7_000},
            "import_w": 400 + (n + s) % 50,
            "voltage_v": [230.1, 229.8, 231.0],
            "current_a": [1.2, 0.8, 2.1],
            "tariff": "1",
        }
        for s in range(METER_READINGS)
    ]
    devices = [{"device_id": home.device_id, "timestamp": newest.isoformat(), "power_w": 150,
                "energy_wh": 1000 + n, "on": True}]  # fmt: skip
    batch_id = str(uuid.uuid4())
    body = {"batch_id": batch_id, "serial": home.serial, "meter": meter, "devices": devices}
    return batch_id, json.dumps(body).encode()


# The servers -----------------------------------------------------------------------------


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_bytes()[-chars:].decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(log_dir: Path, name: str) -> Server:
    env = {
        **os.environ,  # DATABASE_URL (the bench database), REDIS_URL, the shared secrets
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # loopback without TLS, for the bench only
        "AGENT_RATE_LIMIT": "1000000/min",
        "CELERY_BROKER_URL": "memory://",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    port = free_port()
    log_path = log_dir / f"server-{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1", "--log-level", "info", "--no-access-log"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(port, process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server {name} exited:\n{server.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise SystemExit(f"server {name} did not start:\n{server.log_tail()}")


# The run ---------------------------------------------------------------------------------


@dataclass
class Run:
    homes: list[Home]
    servers: list[Server]
    socket_home: list[int] = field(default_factory=list)  # socket index → home index
    sent_at: dict[str, float] = field(default_factory=dict)  # batch id → just before the POST
    post_s: list[float] = field(default_factory=list)
    expected: dict[str, int] = field(default_factory=dict)  # batch id → home index
    received: dict[tuple[int, str], float] = field(default_factory=dict)  # (socket, batch)
    posted: bool = False  # every POST has been answered
    foreign: int = 0  # frames of another household's batch: must never happen
    refused: list[str] = field(default_factory=list)
    closed_early: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expected_frames(self) -> int:
        return sum(len(self.homes[h].sockets) for h in self.expected.values())


async def open_sockets(run: Run) -> list[Any]:
    from websockets.asyncio.client import connect

    connecting = asyncio.Semaphore(CONNECTING)

    async def open_one(index: int) -> Any:
        home = run.homes[run.socket_home[index]]
        server = run.servers[(index // len(run.homes)) % SERVERS]
        async with connecting:
            ws = await connect(
                f"ws://127.0.0.1:{server.port}/ws/households/{home.household_id}/",
                additional_headers={"Cookie": f"sessionid={home.session_key}"},
                origin=f"http://127.0.0.1:{server.port}",  # type: ignore[arg-type]
                open_timeout=60,
                max_queue=None,
            )
            hello = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
        if hello.get("type") != "hello" or hello.get("household") != home.household_id:
            raise SystemExit(f"socket {index}: unexpected first message {hello}")
        return ws

    return list(await asyncio.gather(*(open_one(i) for i in range(len(run.socket_home)))))


async def read(run: Run, index: int, ws: Any, everything: asyncio.Event) -> None:
    from websockets.exceptions import ConnectionClosed

    home = run.socket_home[index]
    try:
        async for raw in ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            if frame.get("type") != "flows":
                continue
            batch_id = frame.get("batch_id")
            if run.expected.get(batch_id, home) != home or frame.get("household") != (
                run.homes[home].household_id
            ):
                run.foreign += 1
                continue
            run.received.setdefault((index, batch_id), now)
            if len(run.received) >= run.expected_frames() and run.posted:
                everything.set()
    except ConnectionClosed as closed:
        run.closed_early.append(f"socket {index}: {closed}")


def post(run: Run, home_index: int, n: int, local: threading.local) -> None:
    from gateway_agent import signing

    home = run.homes[home_index]
    server = run.servers[n % SERVERS]
    batch_id, body = batch_body(home, n)
    headers = signing.signed_headers(
        serial=home.serial, key_id=home.key_id, secret=home.secret, method="POST",
        path=TELEMETRY, body=body,
    )  # fmt: skip
    connections = local.__dict__.setdefault("connections", {})
    with run.lock:
        run.expected[batch_id] = home_index  # before the POST: its frame may beat the reply
    started = time.perf_counter()
    run.sent_at[batch_id] = started
    for attempt in (1, 2):
        if server.port not in connections:
            connections[server.port] = http.client.HTTPConnection(
                "127.0.0.1", server.port, timeout=60
            )
        connection = connections[server.port]
        try:
            connection.request(
                "POST", TELEMETRY, body=body,
                headers={**headers, "Content-Type": "application/json"},
            )  # fmt: skip
            response = connection.getresponse()
            reply = response.read()
            break
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closed an idle keep-alive connection: a new one, once. The batch id
            # makes the re-send idempotent (a batch already taken answers 200 "duplicate").
            connections.pop(server.port).close()
            if attempt == 2:
                raise
    run.post_s.append(time.perf_counter() - started)
    if response.status == 200 and b'"duplicate":true' in reply.replace(b" ", b""):
        return  # taken by the first try; its frame was published then
    if response.status != 201:  # no frame to expect: the run fails on the refusal itself
        with run.lock:
            del run.expected[batch_id]
        run.refused.append(f"batch {n} on :{server.port}: {response.status} {reply[:300]!r}")


async def ingest(run: Run) -> float:
    loop = asyncio.get_running_loop()
    local = threading.local()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        in_flight = asyncio.Semaphore(IN_FLIGHT)
        pending = []

        async def one(n: int) -> None:
            try:
                await loop.run_in_executor(pool, post, run, n % len(run.homes), n, local)
            finally:
                in_flight.release()

        for n in range(BATCHES):
            delay = started + n / RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await in_flight.acquire()
            pending.append(asyncio.create_task(one(n)))
        await asyncio.gather(*pending)
    return time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def measure(run: Run) -> dict[str, Any]:
    started = time.perf_counter()
    sockets = await open_sockets(run)
    connect_s = time.perf_counter() - started
    print(f"{len(sockets)} sockets open on {SERVERS} servers in {connect_s:.1f} s", flush=True)
    everything = asyncio.Event()
    readers = [asyncio.create_task(read(run, i, ws, everything)) for i, ws in enumerate(sockets)]
    ingest_s = await ingest(run)
    run.posted = True
    if len(run.received) >= run.expected_frames():
        everything.set()
    with contextlib.suppress(TimeoutError):  # what has not come by then is dropped
        await asyncio.wait_for(everything.wait(), timeout=DRAIN_S)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    await asyncio.gather(*readers, return_exceptions=True)
    latencies = [(at - run.sent_at[batch_id]) * 1000 for (_, batch_id), at in run.received.items()]
    expected = run.expected_frames()
    print(
        f"{BATCHES} batches to {len(run.homes)} households in {ingest_s:.1f} s "
        f"(offered {RATE:g}/s, {IN_FLIGHT} in flight), POST p50 "
        f"{percentile(run.post_s, 0.5) * 1000:.1f} ms",
        flush=True,
    )
    print(f"{len(latencies)} of {expected} frames received, {run.foreign} foreign", flush=True)
    return {
        "expected": expected,
        "latencies": latencies,
        "dropped": expected - len(latencies),
    }


def main() -> int:
    require_services()
    from cryptography.fernet import Fernet

    # The bench issues keys and sessions; the servers check them: the same secrets for all.
    os.environ["GATEWAY_SECRET_KEYS"] = Fernet.generate_key().decode()
    os.environ["DJANGO_SECRET_KEY"] = base64.urlsafe_b64encode(os.urandom(40)).decode()
    _django.setup()
    if _django.vendor() != "postgresql":
        raise SystemExit("bench live_latency needs PostgreSQL")
    started = time.perf_counter()
    homes = build_fleet()
    from django.db import connections

    connections.close_all()
    print(f"{len(homes)} households built in {time.perf_counter() - started:.1f} s", flush=True)

    run = Run(homes=homes, servers=[])
    for index in range(SOCKETS):  # round robin: each household's sockets alternate servers
        home = index % len(homes)
        run.socket_home.append(home)
        homes[home].sockets.append(index)
    with tempfile.TemporaryDirectory(prefix="heb-bench-live-") as log_dir:
        try:
            run.servers = [start_server(Path(log_dir), name) for name in "AB"[:SERVERS]]
            figures = asyncio.run(measure(run))
        finally:
            for server in run.servers:
                server.stop()
        problems = run.refused[:5] + run.closed_early[:5]
        if figures["dropped"] or run.foreign or problems:
            for problem in problems:
                print(problem)
            for name, server in zip("AB", run.servers, strict=False):
                print(f"--- server {name} log (tail) ---\n{server.log_tail()}")
    latencies = figures["latencies"] or [math.nan]
    print(
        json.dumps(
            {
                "bench": "live_latency",
                "sockets": SOCKETS,
                "p50_ms": round(percentile(latencies, 0.5), 1),
                "p99_ms": round(percentile(latencies, 0.99), 1),
                "dropped": figures["dropped"],
            }
        )
    )
    failed = figures["dropped"] > 0 or run.foreign > 0 or bool(run.refused)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
