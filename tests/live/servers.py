"""Real server processes for the live tests: uvicorn on the project's ASGI app.

Each server writes its log (uvicorn at info, every warning and error) to a file, so a test
that waits in vain for a frame can show what the servers said. Nothing here mocks anything:
the tests talk to the servers over loopback as a browser and a box would.

The servers run `python -m tests.live.servers <uvicorn options>`: uvicorn's own command
line, after a root log handler is installed. The test settings' LOGGING gives the root
logger no handler and Django's "django" logger only handlers that stay silent without
DEBUG, so a 500's traceback or a failing on_commit hook (the live push runs in one)
would otherwise leave no trace in the server's output.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from gateway_agent import signing

ROOT = Path(__file__).resolve().parents[2]
TELEMETRY = "/api/agent/v1/telemetry/"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    mark: int = 0  # where the current test's part of the log begins

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, household_id: Any) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/households/{household_id}/"

    def log(self, *, since_mark: bool = False) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[self.mark if since_mark else 0 :].decode(errors="replace")

    def set_mark(self) -> None:
        self.mark = self.log_path.stat().st_size if self.log_path.exists() else 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_server(*, name: str, env: dict[str, str], log_path: Path) -> ServerProcess:
    """One uvicorn process, one worker; returns once it accepts connections."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.live.servers", "config.asgi:application",
             "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--log-level", "info"],
            cwd=ROOT, env={**env, "PYTHONUNBUFFERED": "1"}, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = ServerProcess(name, port, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server {name} exited with {process.returncode}:\n{server.log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"server {name} did not listen within {START_TIMEOUT_S} s:\n{server.log()}")


def database_url(settings_dict: dict[str, Any]) -> str:
    """The URL of the database Django's connection uses (the pytest-django test database)."""
    user = settings_dict.get("USER") or "postgres"
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{password}" if password else user
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{settings_dict['NAME']}"


# The box ---------------------------------------------------------------------------------


@dataclass
class Box:
    """A provisioned, paired gateway as the box knows it: serial, key id, secret."""

    serial: str
    key_id: str
    secret: bytes
    meter_id: str
    household_id: str
    devices: dict[str, str] = field(default_factory=dict)  # role → device id


def post_batch(port: int, box: Box, batch: dict[str, Any]) -> tuple[int, bytes]:
    """POST one signed telemetry batch to a server, as the agent does."""
    body = json.dumps(batch).encode()
    headers = signing.signed_headers(
        serial=box.serial, key_id=box.key_id, secret=box.secret, method="POST",
        path=TELEMETRY, body=body,
    )  # fmt: skip
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST", TELEMETRY, body=body, headers={**headers, "Content-Type": "application/json"}
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def new_batch_id() -> str:
    return str(uuid.uuid4())


def secret_bytes(secret: str) -> bytes:
    return base64.urlsafe_b64decode(secret)


# The socket ------------------------------------------------------------------------------


def open_socket(
    server: ServerProcess, household_id: Any, session_key: str | None
) -> ClientConnection:
    headers = {"Cookie": f"sessionid={session_key}"} if session_key else {}
    return connect(
        server.ws_url(household_id),
        additional_headers=headers,
        origin=Origin(server.origin),
        open_timeout=15,
        close_timeout=5,
    )


class NoFrame(AssertionError):
    pass


def receive_until(
    ws: ClientConnection, wanted: Any, *, timeout: float = 15.0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The first message for which `wanted(message)` is true, and every message before it."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NoFrame(f"no wanted frame within {timeout} s; received: {seen}")
        try:
            raw = ws.recv(timeout=remaining)
        except TimeoutError:
            continue
        except ConnectionClosed as closed:
            raise NoFrame(
                f"socket closed ({closed.rcvd}) before the frame; received: {seen}"
            ) from None
        message = json.loads(raw)
        if wanted(message):
            return message, seen
        seen.append(message)


def wait_closed(ws: ClientConnection, *, timeout: float = 15.0) -> tuple[int | None, list[Any]]:
    """Read until the server closes the socket: its close code and what came before."""
    seen: list[Any] = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NoFrame(f"the socket stayed open for {timeout} s; received: {seen}")
        try:
            seen.append(json.loads(ws.recv(timeout=remaining)))
        except TimeoutError:
            continue
        except ConnectionClosed as closed:
            return (closed.rcvd.code if closed.rcvd else None), seen


def refusal(server: ServerProcess, household_id: Any, session_key: str | None) -> str:
    """How the server refuses a socket: 'http 403' (closed before accept: the ASGI server
    answers the handshake with 403) or 'close 4404' (accepted, then closed); any frame
    received, or an accepted socket that stays open, fails."""
    try:
        ws = open_socket(server, household_id, session_key)
    except InvalidStatus as refused:
        return f"http {refused.response.status_code}"
    with ws:
        code, seen = wait_closed(ws, timeout=10)
    if seen:
        raise AssertionError(f"a refused socket received frames: {seen}")
    return f"close {code}"


def serve(argv: list[str]) -> None:
    """uvicorn's command line, with every warning and error of the app on stderr."""
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    import uvicorn

    uvicorn.main.main(args=argv, prog_name="uvicorn")


if __name__ == "__main__":
    serve(sys.argv[1:])
