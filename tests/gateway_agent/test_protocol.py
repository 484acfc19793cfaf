import uuid

import msgspec
import pytest

from gateway_agent.protocol import TelemetryBatch, decode_batch, encode

NEGATIVE_REGISTER = {"timestamp": "2026-11-28T12:00:00Z", "meter_id": "m", "import_wh": {"1": -5}}


def batch(**overrides: object) -> dict:
    body = {
        "batch_id": str(uuid.uuid4()),
        "serial": "HEB-BE-00001",
        "meter": [
            {
                "timestamp": "2026-11-28T12:00:00Z",
                "meter_id": "3153414733313031303231363035",
                "import_wh": {"1": 123456, "2": 654321},
                "import_w": 1200,
                "voltage_v": [231.0],
            }
        ],
    }
    body.update(overrides)
    return body


def test_a_valid_batch_round_trips() -> None:
    decoded = decode_batch(msgspec.json.encode(batch()))
    assert isinstance(decoded, TelemetryBatch)
    assert decoded.meter[0].import_wh["2"] == 654321
    assert decode_batch(encode(decoded)) == decoded


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"serial": "x"}, "$.serial"),
        ({"batch_id": "not-a-uuid"}, "$.batch_id"),
        ({"meter": [NEGATIVE_REGISTER]}, "$.meter[0].import_wh"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_bad_batch_names_the_bad_field(overrides: dict, field: str) -> None:
    with pytest.raises(msgspec.ValidationError) as error:
        decode_batch(msgspec.json.encode(batch(**overrides)))
    assert field in str(error.value)


def test_the_agent_protocol_imports_nothing_from_the_platform() -> None:
    import ast
    from pathlib import Path

    import gateway_agent

    for path in Path(gateway_agent.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("apps", "config", "django")), path
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith(("apps", "config", "django")), path
