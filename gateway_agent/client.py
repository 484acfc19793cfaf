"""The agent API client: signed requests on the standard library's http.client.

http.client rather than requests/httpx: it is already in memory, keeps one persistent
connection (one TLS handshake, not one per request, which matters on 3G) and adds nothing
to the agent's resident size. Every response maps to one `Outcome` the loop acts on.
"""

from __future__ import annotations

import http.client
import logging
import ssl
import time
import uuid
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import Enum
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import msgspec

from gateway_agent import signing
from gateway_agent.credentials import secret_bytes
from gateway_agent.protocol import (
    BatchReceipt,
    CommandAck,
    CommandList,
    Credential,
    ErrorReply,
    Heartbeat,
    HeartbeatReply,
    ProvisionReply,
    ProvisionRequest,
)

log = logging.getLogger(__name__)

API_PREFIX = "/api/agent/v1/"
T = TypeVar("T")


class Outcome(Enum):
    OK = "ok"
    REJECTED = "rejected"  # 400/422: this request will never be accepted
    UNAUTHORIZED = "unauthorized"  # 401: key expired, revoked, or bad signature
    WRONG_METER = "wrong_meter"  # 403 on field meter_id: readings of an unpaired meter
    FORBIDDEN = "forbidden"  # other 403 (provisioning: not claimed yet)
    NOT_FOUND = "not_found"  # 404 (an ack for a command the platform no longer has)
    CONFLICT = "conflict"  # 409 (provisioning: credential already delivered)
    RATE_LIMITED = "rate_limited"  # 429: wait Retry-After
    RETRY = "retry"  # 5xx, unexpected answers, connection errors, timeouts


@dataclass(frozen=True)
class Result(Generic[T]):
    outcome: Outcome
    status: int = 0  # 0 when no HTTP answer came
    value: T | None = None
    error: str = ""
    field: str | None = None
    retry_after_s: float | None = None
    latency_ms: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


class AgentClient:
    def __init__(
        self,
        server_url: str,
        serial: str,
        *,
        timeout_s: float = 30.0,
        ca_file: Path | None = None,
    ) -> None:
        parts = urlsplit(server_url)
        self.serial = serial
        self._scheme = parts.scheme
        self._host = parts.hostname or ""
        self._port = parts.port
        self._base_path = parts.path.rstrip("/") + API_PREFIX
        self._timeout_s = timeout_s
        self._ca_file = ca_file
        self._connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # -- the API ----------------------------------------------------------------------------

    def provision(self, claim_code: str) -> Result[ProvisionReply]:
        body = msgspec.json.encode(ProvisionRequest(self.serial, claim_code))
        return self._request("POST", "provision/", body, ProvisionReply, credential=None)

    def heartbeat(self, heartbeat: Heartbeat, credential: Credential) -> Result[HeartbeatReply]:
        body = msgspec.json.encode(heartbeat)
        return self._request("POST", "heartbeat/", body, HeartbeatReply, credential)

    def send_batch(self, body: bytes, credential: Credential) -> Result[BatchReceipt]:
        return self._request("POST", "telemetry/", body, BatchReceipt, credential)

    def fetch_commands(self, credential: Credential) -> Result[CommandList]:
        return self._request("GET", "commands/", b"", CommandList, credential)

    def send_ack(self, command_id: uuid.UUID, body: bytes, credential: Credential) -> Result[Any]:
        return self._request("POST", f"commands/{command_id}/ack/", body, None, credential)

    def ack(self, ack: CommandAck, credential: Credential) -> Result[Any]:
        return self.send_ack(ack.command_id, msgspec.json.encode(ack), credential)

    # -- the transport ----------------------------------------------------------------------

    def _request(
        self,
        method: str,
        endpoint: str,
        body: bytes,
        reply_type: type[T] | None,
        credential: Credential | None,
    ) -> Result[T]:
        path = self._base_path + endpoint
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if credential is not None:
            headers |= signing.signed_headers(
                serial=self.serial,
                key_id=credential.key_id,
                secret=secret_bytes(credential),
                method=method,
                path=path,
                body=body,
            )
        started = time.monotonic()
        try:
            status, reply_headers, payload = self._exchange(method, path, body, headers)
        except (OSError, http.client.HTTPException) as error:  # timeouts are OSErrors
            self.close()
            log.warning("%s %s: no answer (%s)", method, path, error or type(error).__name__)
            return Result(Outcome.RETRY, error=str(error) or type(error).__name__)
        latency_ms = int((time.monotonic() - started) * 1000)
        return interpret(status, reply_headers, payload, reply_type, latency_ms)

    def _exchange(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        for attempt in (1, 2):
            connection = self._connect()
            try:
                connection.request(method, path, body=body or None, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had closed: once more on a fresh one.
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                self.close()
            return response.status, response.headers, payload
        raise AssertionError("unreachable")

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            if self._scheme == "https":
                context = ssl.create_default_context(
                    cafile=str(self._ca_file) if self._ca_file else None
                )
                self._connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._timeout_s, context=context
                )
            else:
                self._connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=self._timeout_s
                )
        return self._connection


def interpret(
    status: int,
    headers: http.client.HTTPMessage,
    payload: bytes,
    reply_type: type[T] | None,
    latency_ms: int | None = None,
) -> Result[T]:
    """Map one HTTP answer to what the agent should do about it."""
    if 200 <= status < 300:
        return _decode_success(status, payload, reply_type, latency_ms)
    error, field = _error_reply(payload)
    if status in (400, 422):
        outcome = Outcome.REJECTED
    elif status == 401:
        outcome = Outcome.UNAUTHORIZED
    elif status == 403:
        outcome = Outcome.WRONG_METER if field == "meter_id" else Outcome.FORBIDDEN
    elif status == 404:
        outcome = Outcome.NOT_FOUND
    elif status == 409:
        outcome = Outcome.CONFLICT
    elif status == 429:
        retry_after = retry_after_seconds(headers.get("Retry-After"))
        return Result(Outcome.RATE_LIMITED, status, None, error, field, retry_after, latency_ms)
    else:
        outcome = Outcome.RETRY  # 5xx, and anything this contract does not name
    return Result(outcome, status, None, error, field, None, latency_ms)


def _decode_success(
    status: int, payload: bytes, reply_type: type[T] | None, latency_ms: int | None
) -> Result[T]:
    if reply_type is None:
        return Result(Outcome.OK, status, latency_ms=latency_ms)
    try:
        value = msgspec.json.decode(payload, type=reply_type)
    except msgspec.DecodeError as error:  # a proxy's HTML page, a half answer: try again later
        log.warning("a %d answer that is not a %s: %s", status, reply_type.__name__, error)
        return Result(Outcome.RETRY, status, error=str(error), latency_ms=latency_ms)
    return Result(Outcome.OK, status, value, latency_ms=latency_ms)


def _error_reply(payload: bytes) -> tuple[str, str | None]:
    try:
        reply = msgspec.json.decode(payload, type=ErrorReply)
    except msgspec.DecodeError:
        return payload[:200].decode("utf-8", "replace"), None
    return reply.error, reply.field


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
