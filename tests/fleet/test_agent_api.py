"""The agent API: provisioning, signed requests, heartbeats, ingest, commands."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from apps.fleet import services
from apps.fleet.models import AlarmKind, CommandStatus, GatewayAlarm, GatewayCommand
from apps.telemetry.models import DeviceReading, IngestedBatch, MeterReading
from gateway_agent import signing
from tests.conftest import World, mfa_login
from tests.fleet.conftest import (
    AGENT,
    CLAIM_CODE,
    METER_ID,
    Box,
    batch,
    meter_reading,
    now_iso,
    provision,
)

pytestmark = pytest.mark.django_db


def rows() -> tuple[int, int, int]:
    return (
        MeterReading.objects.count(),
        DeviceReading.objects.count(),
        IngestedBatch.objects.count(),
    )


# Claiming and provisioning ----------------------------------------------------------------


def test_an_unclaimed_box_gets_no_key(unclaimed: Any) -> None:
    response = provision(unclaimed.serial)
    assert response.status_code == 403
    assert "claim" in response.json()["error"].lower()


def test_a_claimed_box_gets_its_key_once(world: World, unclaimed: Any) -> None:
    services.gateway_claim(
        user=world.users["installer"], household=world.household,
        serial=unclaimed.serial, claim_code=CLAIM_CODE.lower(),
    )  # fmt: skip
    first = provision(unclaimed.serial)
    assert first.status_code == 200
    assert first.json()["household_id"] == str(world.household.pk)
    assert len(base64.urlsafe_b64decode(first.json()["credential"]["secret"])) == 32
    again = provision(unclaimed.serial)
    assert again.status_code == 409


def test_a_wrong_claim_code_is_refused_without_saying_which_part_is_wrong(
    world: World, unclaimed: Any
) -> None:
    from django.core.exceptions import ValidationError

    for serial, code in ((unclaimed.serial, "WRONGCODE123"), ("HEB-NOPE-1", CLAIM_CODE)):
        with pytest.raises(ValidationError) as refused:
            services.gateway_claim(
                user=world.users["installer"], household=world.household,
                serial=serial, claim_code=code,
            )  # fmt: skip
        assert refused.value.message_dict == {"claim_code": ["Unknown serial or wrong claim code."]}
    assert provision(unclaimed.serial, "WRONGCODE123").status_code == 403


def test_only_someone_in_reach_of_the_household_claims_for_it(world: World, unclaimed: Any) -> None:
    from django.core.exceptions import PermissionDenied

    for role, household in (("installer", world.neighbour), ("household_member", world.household)):
        with pytest.raises(PermissionDenied):
            services.gateway_claim(
                user=world.users[role], household=household,
                serial=unclaimed.serial, claim_code=CLAIM_CODE,
            )  # fmt: skip


def test_a_claim_lapses_when_the_box_does_not_fetch_its_key_in_the_window(
    world: World, unclaimed: Any
) -> None:
    services.gateway_claim(
        user=world.users["installer"], household=world.household,
        serial=unclaimed.serial, claim_code=CLAIM_CODE,
    )  # fmt: skip
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        response = provision(unclaimed.serial)
    assert response.status_code == 403
    assert "lapsed" in response.json()["error"]


# Signatures -----------------------------------------------------------------------------


def test_a_signed_heartbeat_is_recorded(box: Box) -> None:
    response = box.heartbeat(meter_id=METER_ID)
    assert response.status_code == 200, response.content
    reply = response.json()
    assert reply["pairing"] == "none"
    assert "paired_meter_id" not in reply and "new_credential" not in reply
    box.gateway.refresh_from_db()
    assert (box.gateway.connectivity, box.gateway.signal_dbm, box.gateway.latency_ms) == (
        "3g", -85, 240,
    )  # fmt: skip
    assert box.gateway.outbox_depth == 3 and box.gateway.meter_id_seen == METER_ID
    assert box.gateway.last_seen_at is not None


def header_tampering(box: Box) -> dict[str, dict[str, str]]:
    return {
        "missing signature": {signing.SIGNATURE_HEADER: ""},
        "stale timestamp": {signing.TIMESTAMP_HEADER: str(int(time.time()) - 301)},
        "timestamp from the future": {signing.TIMESTAMP_HEADER: str(int(time.time()) + 301)},
        "another box's serial": {signing.GATEWAY_HEADER: "HEB-T-000001"},
        "unknown key": {signing.KEY_HEADER: "k_doesnotexist"},
        "forged signature": {signing.SIGNATURE_HEADER: "0" * 64},
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing signature", "stale timestamp", "timestamp from the future",
        "another box's serial", "unknown key", "forged signature",
    ],
)  # fmt: skip
def test_tampered_requests_are_refused(box: Box, case: str) -> None:
    body = json.dumps(batch(box, meter=[])).encode()
    response = box.call("POST", "telemetry/", body, headers=header_tampering(box)[case])
    assert response.status_code == 401, (case, response.content)
    assert response.json()["error"]
    assert IngestedBatch.objects.count() == 0


def test_a_tampered_body_breaks_the_signature_and_raises_an_alarm(paired_box: Box) -> None:
    body = json.dumps(batch(paired_box)).encode()
    headers = signing.signed_headers(
        serial=paired_box.gateway.serial, key_id=paired_box.key_id,
        secret=base64.urlsafe_b64decode(paired_box.secret), method="POST",
        path=AGENT + "telemetry/", body=body,
    )  # fmt: skip
    tampered = body.replace(b"1840", b"9999")
    response = paired_box.client.post(
        AGENT + "telemetry/", data=tampered, content_type="application/json", headers=headers
    )
    assert response.status_code == 401
    assert rows() == (0, 0, 0)
    assert GatewayAlarm.objects.filter(kind=AlarmKind.BAD_SIGNATURE).count() == 1


def test_a_replayed_request_is_refused(paired_box: Box) -> None:
    body = json.dumps(batch(paired_box)).encode()
    headers = signing.signed_headers(
        serial=paired_box.gateway.serial, key_id=paired_box.key_id,
        secret=base64.urlsafe_b64decode(paired_box.secret), method="POST",
        path=AGENT + "telemetry/", body=body,
    )  # fmt: skip

    def send() -> Any:
        return paired_box.client.post(
            AGENT + "telemetry/", data=body, content_type="application/json", headers=headers
        )

    assert send().status_code == 201
    replay = send()
    assert replay.status_code == 401
    assert "replay" in replay.json()["error"]


def test_a_revoked_key_fails_at_once_and_raises_an_alarm(world: World, box: Box) -> None:
    assert box.heartbeat().status_code == 200
    credential = box.gateway.credentials.get(key_id=box.key_id)
    services.credential_revoke(user=world.users["dso_staff"], credential=credential)
    response = box.heartbeat()
    assert response.status_code == 401
    assert "revoked or expired" in response.json()["error"]
    assert GatewayAlarm.objects.filter(kind=AlarmKind.REVOKED_KEY).exists()


def test_rotation_needs_no_downtime_and_the_old_key_expires_after_the_overlap(
    world: World, box: Box
) -> None:
    services.credential_rotate(user=world.users["telco_operator"], gateway=box.gateway)
    reply = box.heartbeat().json()  # signed with the old key, which still works
    new = reply["new_credential"]
    assert new["key_id"] != box.key_id
    rotated = Box(box.gateway, new["key_id"], new["secret"])
    assert rotated.heartbeat().status_code == 200
    assert "new_credential" not in rotated.heartbeat().json()  # delivered: not sent again
    assert box.heartbeat().status_code == 200  # still in the overlap
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert box.heartbeat().status_code == 401
        assert rotated.heartbeat().status_code == 200


def test_only_fleet_staff_rotate_and_revoke(world: World, box: Box) -> None:
    from django.core.exceptions import PermissionDenied

    credential = box.gateway.credentials.get(key_id=box.key_id)
    for role in ("installer", "household_owner", "third_party"):
        with pytest.raises(PermissionDenied):
            services.credential_rotate(user=world.users[role], gateway=box.gateway)
        with pytest.raises(PermissionDenied):
            services.credential_revoke(user=world.users[role], credential=credential)


def test_a_person_cannot_use_the_agent_api(world: World) -> None:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(world.users["platform_admin"])
    assert client.post(AGENT + "heartbeat/", {}, format="json").status_code == 401


@override_settings(AGENT_RATE_LIMIT="3/min")
def test_each_box_has_a_rate_limit(box: Box) -> None:
    statuses = [box.heartbeat().status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert box.heartbeat()["Retry-After"]


@override_settings(AGENT_PROVISION_RATE_LIMIT="2/min")
def test_provisioning_is_rate_limited_per_address(unclaimed: Any) -> None:
    cache.delete("throttle_agent-provision_127.0.0.1")
    statuses = [provision(unclaimed.serial, "GUESS0000000").status_code for _ in range(3)]
    assert statuses == [403, 403, 429]
    cache.delete("throttle_agent-provision_127.0.0.1")


# Pairing --------------------------------------------------------------------------------


def test_pairing_is_requested_approved_by_the_dso_and_told_to_the_box(
    world: World, box: Box
) -> None:
    pairing = services.pairing_request(user=world.users["installer"], gateway=box.gateway)
    assert box.heartbeat().json()["pairing"] == "requested"
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.pairing_approve(user=world.users["household_owner"], pairing=pairing, meter_id="x")
    services.pairing_approve(user=world.users["dso_staff"], pairing=pairing, meter_id=METER_ID)
    reply = box.heartbeat().json()
    assert (reply["pairing"], reply["paired_meter_id"]) == ("approved", METER_ID)


def test_the_tenant_policy_auto_approves_with_the_meter_the_box_reports(
    world: World, box: Box
) -> None:
    world.home_tenant.pairing_auto_approve = True
    world.home_tenant.save()
    pairing = services.pairing_request(user=world.users["household_owner"], gateway=box.gateway)
    assert pairing.status == "requested"  # the box has not said which meter it sees yet
    reply = box.heartbeat(meter_id=METER_ID).json()
    assert (reply["pairing"], reply["paired_meter_id"]) == ("approved", METER_ID)


def test_unpairing_stops_the_flow_at_once(world: World, paired_box: Box) -> None:
    assert paired_box.post("telemetry/", batch(paired_box)).status_code == 201
    pairing = paired_box.gateway.pairings.get(status="approved")
    services.pairing_end(user=world.users["household_owner"], pairing=pairing)
    response = paired_box.post("telemetry/", batch(paired_box))
    assert response.status_code == 403
    assert response.json()["field"] == "$.meter[0].meter_id"
    assert MeterReading.objects.count() == 1


# Telemetry ------------------------------------------------------------------------------


def test_a_batch_is_stored_whole(world: World, paired_box: Box) -> None:
    device = world.devices["ours"]
    devices = [
        {"device_id": str(device.pk), "timestamp": now_iso(), "power_w": 1200,
         "energy_wh": 5400, "on": True},
        {"device_id": str(device.pk), "timestamp": now_iso(), "power_w": -800, "soc_pct": 64.5},
    ]  # fmt: skip
    sent = batch(paired_box, meter=[meter_reading(), meter_reading(import_w=900)], devices=devices)
    response = paired_box.post("telemetry/", sent)
    assert response.status_code == 201, response.content
    assert response.json() == {
        "batch_id": sent["batch_id"], "duplicate": False, "meter_rows": 2, "device_rows": 2,
    }  # fmt: skip
    reading = MeterReading.objects.order_by("import_w").first()
    assert reading is not None
    assert reading.household_id == world.household.pk and reading.meter_id == METER_ID
    assert reading.import_wh == {"1": 1_234_567, "2": 2_345_678}
    assert reading.voltage_v == [231.2, 229.8, 230.4] and reading.tariff == "2"
    battery = DeviceReading.objects.get(power_w=-800)
    assert battery.soc_pct == 64.5 and battery.energy_wh is None


def test_a_resent_batch_is_accepted_once(paired_box: Box) -> None:
    sent = batch(paired_box)
    assert paired_box.post("telemetry/", sent).status_code == 201
    again = paired_box.post("telemetry/", sent)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert rows() == (1, 0, 1)


def test_readings_from_another_meter_are_refused_and_alarmed(paired_box: Box) -> None:
    sent = batch(paired_box, meter=[meter_reading(), meter_reading(meter_id="1SAG9999999999")])
    response = paired_box.post("telemetry/", sent)
    assert response.status_code == 403
    assert response.json()["field"] == "$.meter[1].meter_id"
    assert rows() == (0, 0, 0)
    alarm = GatewayAlarm.objects.get(kind=AlarmKind.WRONG_METER)
    assert "1SAG9999999999" in alarm.message


def test_an_unpaired_box_may_send_device_readings_but_no_meter_readings(
    world: World, box: Box
) -> None:
    device = {"device_id": str(world.devices["ours"].pk), "timestamp": now_iso(), "power_w": 5}
    assert box.post("telemetry/", batch(box, meter=[], devices=[device])).status_code == 201
    assert box.post("telemetry/", batch(box)).status_code == 403


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        (lambda b: b["meter"][0].update(import_wh={"1": -1}), 422, "$.meter[0].import_wh[...]"),
        (lambda b: b["meter"][0].update(timestamp="yesterday"), 422, "$.meter[0].timestamp"),
        (lambda b: b["meter"][0].update(timestamp="2026-11-28T12:00:00"), 422,
         "$.meter[0].timestamp"),
        (lambda b: b["meter"][0].update(timestamp="2099-01-01T00:00:00Z"), 422,
         "$.meter[0].timestamp"),
        (lambda b: b.update(batch_id="42"), 422, "$.batch_id"),
        (lambda b: b.update(serial="HEB-T-000001"), 422, "$.serial"),
        (lambda b: b.update(surprise=True), 422, None),
        (lambda b: b["devices"].append({"device_id": str(uuid.uuid4()), "timestamp": now_iso(),
                                        "power_w": 1}), 422, "$.devices[0].device_id"),
    ],
)  # fmt: skip
def test_a_bad_batch_names_the_bad_field_and_writes_nothing(
    paired_box: Box, change: Any, status: int, field: str | None
) -> None:
    sent = batch(paired_box, meter=[meter_reading(), meter_reading()])
    change(sent)
    response = paired_box.post("telemetry/", sent)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]
    if field:
        assert body["field"] == field
    assert rows() == (0, 0, 0)


def test_malformed_json_is_a_400(paired_box: Box) -> None:
    response = paired_box.post("telemetry/", b'{"batch_id": ')
    assert response.status_code == 400
    assert "Malformed JSON" in response.json()["error"]


def test_a_batch_id_of_another_box_is_not_confirmed(world: World, paired_box: Box) -> None:
    sent = batch(paired_box)
    assert paired_box.post("telemetry/", sent).status_code == 201
    other = services.gateway_register(
        tenant=world.home_tenant, serial="HEB-BE-90002", claim_code=CLAIM_CODE
    )
    services.gateway_claim(
        user=world.users["installer"], household=world.household,
        serial=other.serial, claim_code=CLAIM_CODE,
    )  # fmt: skip
    credential = provision(other.serial).json()["credential"]
    other.refresh_from_db()
    thief = Box(other, credential["key_id"], credential["secret"])
    response = thief.post("telemetry/", {**sent, "serial": other.serial, "meter": []})
    assert response.status_code == 409


# Commands -------------------------------------------------------------------------------


def test_commands_are_sent_until_acknowledged(world: World, box: Box) -> None:
    command = GatewayCommand.objects.create(
        gateway=box.gateway, household=world.household, device=world.devices["ours"],
        kind="switch_off", not_before=timezone.now() + timedelta(minutes=5),
    )  # fmt: skip
    assert box.heartbeat().json()["pending_commands"] == 1
    listed = box.call("GET", "commands/").json()["commands"]
    assert [c["id"] for c in listed] == [str(command.pk)]
    assert listed[0]["device_id"] == str(world.devices["ours"].pk)
    ack = {"command_id": str(command.pk), "status": "received", "timestamp": now_iso()}
    assert box.post(f"commands/{command.pk}/ack/", ack).status_code == 200
    assert box.call("GET", "commands/").json()["commands"] == []
    for status in ("done", "started"):  # a late "started" does not undo "done"
        box.post(f"commands/{command.pk}/ack/", {**ack, "status": status})
    command.refresh_from_db()
    assert command.status == CommandStatus.DONE


def test_a_box_cannot_acknowledge_another_box_s_command(world: World, box: Box) -> None:
    command = GatewayCommand.objects.create(
        gateway=world.gateways["ours"], household=world.household, kind="switch_on"
    )
    ack = {"command_id": str(command.pk), "status": "done", "timestamp": now_iso()}
    assert box.post(f"commands/{command.pk}/ack/", ack).status_code == 404
    command.refresh_from_db()
    assert command.status == CommandStatus.PENDING


def test_an_expired_command_is_not_sent(world: World, box: Box) -> None:
    command = GatewayCommand.objects.create(
        gateway=box.gateway, household=world.household, kind="switch_on",
        not_after=timezone.now() - timedelta(minutes=1),
    )  # fmt: skip
    assert box.call("GET", "commands/").json()["commands"] == []
    command.refresh_from_db()
    assert command.status == CommandStatus.EXPIRED


# Documentation --------------------------------------------------------------------------


def test_the_agent_api_is_in_the_openapi_schema(world: World) -> None:
    from rest_framework.test import APIClient

    client = APIClient()
    mfa_login(client, world.users["installer"])
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("provision/", "heartbeat/", "telemetry/", "commands/"):
        assert AGENT + path in schema["paths"]
    telemetry = schema["paths"][AGENT + "telemetry/"]["post"]
    assert telemetry["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TelemetryBatch"
    }
    assert "MeterReading" in schema["components"]["schemas"]
    assert "gatewaySignature" in schema["components"]["securitySchemes"]


def test_claiming_again_revokes_the_old_key_and_lets_the_box_provision_again(
    world: World, box: Box
) -> None:
    """A reset or replaced box: the installer claims it again and it fetches a new key."""
    assert box.heartbeat().status_code == 200
    services.gateway_claim(
        user=world.users["installer"], household=world.household,
        serial=box.gateway.serial, claim_code=CLAIM_CODE,
    )  # fmt: skip
    assert box.heartbeat().status_code == 401
    again = provision(box.gateway.serial)
    assert again.status_code == 200
    fresh = Box(
        box.gateway, again.json()["credential"]["key_id"], again.json()["credential"]["secret"]
    )
    assert fresh.heartbeat().status_code == 200
