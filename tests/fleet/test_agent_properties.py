"""Property tests of ingest validation: whatever a box sends, never a 5xx, never half a batch."""

from __future__ import annotations

import contextlib
import copy
import json
import uuid
from typing import Any

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.telemetry.models import DeviceReading, IngestedBatch, MeterReading
from tests.conftest import World
from tests.fleet.conftest import Box, batch, meter_reading, now_iso

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::UserWarning")]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
PATHS = [
    ("batch_id",), ("serial",), ("meter",), ("devices",), ("protocol_version",),
    ("meter", 0), ("meter", 0, "timestamp"), ("meter", 0, "meter_id"), ("meter", 0, "import_wh"),
    ("meter", 0, "export_wh"), ("meter", 0, "import_w"), ("meter", 0, "voltage_v"),
    ("meter", 1, "import_wh", "1"), ("meter", 1, "tariff"), ("devices", 0, "device_id"),
    ("devices", 0, "power_w"), ("devices", 0, "soc_pct"), ("devices", 0, "timestamp"),
]  # fmt: skip
mutations = st.lists(
    st.tuples(st.sampled_from(PATHS), st.one_of(json_values, st.just("<delete>"))),
    min_size=1,
    max_size=3,
)


def mutate(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    *parents, last = path
    target: Any = body
    for key in parents:
        target = target[key]
    if value == "<delete>":
        if isinstance(target, dict):
            target.pop(last, None)
    else:
        target[last] = value


def counts() -> tuple[int, int, int]:
    return (
        MeterReading.objects.count(),
        DeviceReading.objects.count(),
        IngestedBatch.objects.count(),
    )


@override_settings(AGENT_RATE_LIMIT="100000/min")
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=mutations)
def test_any_batch_is_stored_whole_or_refused_with_a_4xx(
    world: World, paired_box: Box, changes: list[tuple[tuple[Any, ...], Any]]
) -> None:
    device = {"device_id": str(world.devices["ours"].pk), "timestamp": now_iso(), "power_w": 300}
    body = batch(paired_box, meter=[meter_reading(), meter_reading()], devices=[device])
    body = copy.deepcopy(body)
    for path, value in changes:
        # An earlier change may have removed the path: then this one does nothing.
        with contextlib.suppress(KeyError, IndexError, TypeError):
            mutate(body, path, value)
    before = counts()
    response = paired_box.post("telemetry/", json.dumps(body).encode())
    after = counts()
    assert response.status_code < 500, response.content
    if response.status_code in (200, 201):
        receipt = response.json()
        expected = (receipt.get("meter_rows", 0), receipt.get("device_rows", 0), 1)
        added = tuple(a - b for a, b in zip(after, before, strict=True))
        assert added == (expected if response.status_code == 201 else (0, 0, 0))
    else:
        assert 400 <= response.status_code < 500
        assert after == before, "a refused batch wrote rows"
        assert response.json()["error"]


@override_settings(AGENT_RATE_LIMIT="100000/min")
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=200))
def test_random_bytes_are_a_400_or_422(paired_box: Box, body: bytes) -> None:
    before = counts()
    response = paired_box.post("telemetry/", body)
    assert response.status_code in (400, 422), response.content
    assert counts() == before


def test_the_batch_id_is_the_only_idempotence_key(paired_box: Box) -> None:
    body = batch(paired_box)
    assert paired_box.post("telemetry/", body).status_code == 201
    body["batch_id"] = str(uuid.uuid4())  # same readings, new batch: a new upload
    assert paired_box.post("telemetry/", body).status_code == 201
    assert counts()[2] == 2
