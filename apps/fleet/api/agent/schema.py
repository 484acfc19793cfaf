"""OpenAPI for the agent API, generated from the msgspec structs (no second definition)."""

from __future__ import annotations

from typing import Any

import msgspec
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse

from gateway_agent import protocol

REF = "#/components/schemas/{name}"
ERROR_TEXT = {
    400: "malformed JSON",
    401: "missing, stale, replayed or badly signed request; revoked or expired key",
    403: "not claimed, not paired, or readings from a meter this box is not paired with",
    409: "already done (credential delivered) or a batch id of another gateway",
    422: "a value breaks the protocol; `field` names it",
    429: "rate limited; retry after the Retry-After header",
}
AGENT_STRUCTS = (
    protocol.ProvisionRequest, protocol.ProvisionReply, protocol.Heartbeat,
    protocol.HeartbeatReply, protocol.TelemetryBatch, protocol.BatchReceipt,
    protocol.CommandList, protocol.CommandAck, protocol.ErrorReply,
)  # fmt: skip


def body_of(struct: type[msgspec.Struct]) -> dict[str, Any]:
    return {"$ref": REF.format(name=struct.__name__)}


def request_of(struct: type[msgspec.Struct]) -> dict[str, Any]:
    return {"application/json": body_of(struct)}


class GatewaySignatureScheme(OpenApiAuthenticationExtension):
    """Documents the HMAC headers (see gateway_agent/signing.py)."""

    target_class = "apps.fleet.api.agent.authentication.GatewaySignatureAuthentication"
    name = "gatewaySignature"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-HEB-Signature",
            "description": (
                "HMAC-SHA256, hex, with the gateway's secret over METHOD, path with query, "
                "X-HEB-Timestamp (Unix s, within ±300 s), X-HEB-Nonce (16-64 chars, single use) "
                "and the SHA-256 hex of the body, joined by newlines. Also send X-HEB-Gateway "
                "(serial) and X-HEB-Key-Id."
            ),
        }


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(body_of(protocol.ErrorReply), description=ERROR_TEXT[code])
        for code in codes
    }


def add_protocol_components(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the protocol structs as schema components."""
    _, components = msgspec.json.schema_components(AGENT_STRUCTS, ref_template=REF)
    result.setdefault("components", {}).setdefault("schemas", {}).update(components)
    return result
