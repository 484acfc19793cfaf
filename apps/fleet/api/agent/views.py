"""The agent API (/api/agent/v1/): what Home Energy Boxes call, signed with their key.

Bodies are decoded with msgspec against gateway_agent.protocol, the one definition of
the wire format; errors answer {"error", "field"} so the box can log what was wrong.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

import msgspec
from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from apps.fleet import services
from apps.fleet.api.agent.authentication import (
    AuthenticatedGateway,
    GatewaySignatureAuthentication,
    IsGateway,
)
from apps.fleet.api.agent.schema import body_of, error_responses, request_of
from apps.fleet.models import Gateway
from apps.telemetry.services import IngestRefused, telemetry_ingest
from gateway_agent import protocol


def agent_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's errors in the protocol's ErrorReply shape.

    Unlike DRF's handler it does not mark the transaction for rollback: agent views run
    outside a request transaction, so an alarm raised while refusing a request stays.
    """
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    return Response({"error": str(exc.detail), "field": None}, exc.status_code, headers=headers)


def gateway_of(request: Request) -> Gateway:
    return cast(AuthenticatedGateway, request.user).gateway


def reply(message: msgspec.Struct, status_code: int = 200) -> Response:
    return Response(msgspec.to_builtins(message), status=status_code)


def error(message: str, status_code: int, field: str | None = None) -> Response:
    return Response({"error": message, "field": field}, status=status_code)


def decode(request: Request, message_type: type[msgspec.Struct]) -> Any:
    """The body as a protocol struct; ValidationError names the bad field ($.meter[3].…)."""
    try:
        return msgspec.json.decode(request.body, type=message_type)
    except msgspec.ValidationError as problem:
        raise BadBody(str(problem), status.HTTP_422_UNPROCESSABLE_ENTITY) from None
    except msgspec.DecodeError as problem:
        raise BadBody(f"Malformed JSON: {problem}", status.HTTP_400_BAD_REQUEST) from None


class BadBody(exceptions.APIException):
    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.field = message.rsplit("at `", 1)[-1].rstrip("`") if "at `" in message else None


class PerGatewayThrottle(SimpleRateThrottle):
    """Each box has its own budget: one misbehaving box cannot starve the fleet."""

    scope = "agent"

    def get_rate(self) -> str:
        return settings.AGENT_RATE_LIMIT  # read per request, so settings can change it

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": gateway_of(request).pk}


class ProvisionThrottle(SimpleRateThrottle):
    """Per source address: slows down anyone guessing claim codes."""

    scope = "agent-provision"

    def get_rate(self) -> str:
        return settings.AGENT_PROVISION_RATE_LIMIT

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AgentView(APIView):
    authentication_classes = [GatewaySignatureAuthentication]
    permission_classes = [IsGateway]
    throttle_classes = [PerGatewayThrottle]

    def get_exception_handler(self) -> Any:
        return agent_exception_handler

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, BadBody):
            return error(str(exc.detail), exc.status_code, exc.field)
        return super().handle_exception(exc)


class ProvisionView(AgentView):
    """The box's first call: its serial and the claim code on its label, for its first key."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ProvisionThrottle]

    @extend_schema(
        request=request_of(protocol.ProvisionRequest),
        responses={200: body_of(protocol.ProvisionReply), **error_responses(403, 409, 422)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        ask = decode(request, protocol.ProvisionRequest)
        try:
            issued, gateway = services.gateway_provision(
                serial=ask.serial, claim_code=ask.claim_code
            )
        except services.ProvisionRefused as refused:
            return error(str(refused), refused.status)
        credential = issued.credential
        return reply(
            protocol.ProvisionReply(
                credential=protocol.Credential(
                    key_id=credential.key_id,
                    secret=issued.secret,
                    valid_from=credential.valid_from,
                    valid_until=credential.valid_until,
                ),
                household_id=gateway.household_id,  # type: ignore[arg-type]  # claimed: set
            )
        )


class HeartbeatView(AgentView):
    @extend_schema(
        request=request_of(protocol.Heartbeat),
        responses={200: body_of(protocol.HeartbeatReply), **error_responses(401, 422, 429)},
    )
    def post(self, request: Request) -> Response:
        heartbeat = decode(request, protocol.Heartbeat)
        gateway = gateway_of(request)
        if heartbeat.serial != gateway.serial:
            return error("The serial is not this gateway's.", 422, "$.serial")
        now = timezone.now()
        services.heartbeat_record(gateway=gateway, heartbeat=heartbeat, now=now)
        pairing, meter_id = services.pairing_state(gateway=gateway)
        pending = services.credential_pending_delivery(gateway=gateway)
        return reply(
            protocol.HeartbeatReply(
                server_time=now,
                pairing=pairing,  # type: ignore[arg-type]
                paired_meter_id=meter_id,
                pending_commands=gateway.commands.waiting().count(),
                new_credential=_credential(pending) if pending else None,
                supply=_supply(gateway),
            )
        )


def _supply(gateway: Gateway) -> protocol.SupplyLimitMessage | None:
    """The contract's limit, so the box's overload guard works without asking again."""
    if gateway.household is None:
        return None
    limit = gateway.household.supply_limit()
    return protocol.SupplyLimitMessage(
        limit_va=round(limit.limit_va), kind=limit.kind, phases=limit.phases
    )


def _credential(issued: services.IssuedCredential) -> protocol.Credential:
    return protocol.Credential(
        key_id=issued.credential.key_id,
        secret=issued.secret,
        valid_from=issued.credential.valid_from,
        valid_until=issued.credential.valid_until,
    )


class TelemetryView(AgentView):
    @extend_schema(
        request=request_of(protocol.TelemetryBatch),
        responses={
            201: body_of(protocol.BatchReceipt),
            200: OpenApiResponse(body_of(protocol.BatchReceipt), description="a re-sent batch"),
            **error_responses(400, 401, 403, 409, 422, 429),
        },
    )
    def post(self, request: Request) -> Response:
        batch = decode(request, protocol.TelemetryBatch)
        try:
            receipt = telemetry_ingest(gateway=gateway_of(request), batch=batch, now=timezone.now())
        except IngestRefused as refused:
            return error(refused.message, refused.status, refused.field)
        return reply(receipt, status.HTTP_200_OK if receipt.duplicate else status.HTTP_201_CREATED)


class CommandListView(AgentView):
    @extend_schema(responses={200: body_of(protocol.CommandList), **error_responses(401, 429)})
    def get(self, request: Request) -> Response:
        commands = services.commands_for_box(gateway=gateway_of(request), now=timezone.now())
        return reply(protocol.CommandList(commands=[_command(c) for c in commands]))


def _command(command: Any) -> protocol.Command:
    return protocol.Command(
        id=command.pk,
        kind=command.kind,
        device_id=command.device_id,
        not_before=command.not_before,
        not_after=command.not_after,
        params=command.params,
    )


class CommandAckView(AgentView):
    @extend_schema(
        request=request_of(protocol.CommandAck),
        responses={200: OpenApiResponse(description="recorded"), **error_responses(401, 422)},
    )
    def post(self, request: Request, command_id: uuid.UUID) -> Response:
        ack = decode(request, protocol.CommandAck)
        if ack.command_id != command_id:
            return error("The body's command_id is not the URL's.", 422, "$.command_id")
        try:
            command = services.command_acknowledge(
                gateway=gateway_of(request),
                command_id=command_id,
                status=ack.status,
                message=ack.message,
            )
        except services.ValidationError:
            return error("No such command for this gateway.", 404, "$.command_id")
        return Response({"command_id": str(command.pk), "status": command.status})
