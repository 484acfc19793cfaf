"""After a batch is ingested through the agent API: the live frame, overloads, notifications."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from apps.devices.models import DeviceKind
from apps.fleet.models import AlarmKind, GatewayAlarm, GatewayCommand
from apps.live.messages import notification_text
from apps.live.models import Notification, OverloadEpisode, OverloadLevel
from apps.live.selectors import live_history, live_snapshot
from apps.telemetry.models import GuardAction, MeterReading
from tests.conftest import World, mfa_login
from tests.factories import DeviceFactory
from tests.fleet.conftest import Box, batch, meter_reading
from tests.live.conftest import Listener

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_memory_layer")]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def send(box: Box, capture: Any, *, at: datetime | None = None, **meter: Any) -> dict:
    """One batch with one meter reading (no phase figures: the load is import_w)."""
    reading = meter_reading(
        timestamp=iso(at or timezone.now()), voltage_v=[], current_a=[], **meter
    )
    body = batch(box, meter=[reading])
    with capture(execute=True):
        response = box.post("telemetry/", body)
    assert response.status_code == 201, response.content
    return body


def frames_of(listener: Listener, kind: str) -> list[dict]:
    return [m["payload"] for m in listener.messages() if m["payload"]["type"] == kind]


def test_a_batch_pushes_the_flows_to_the_household_group(
    world: World, paired_box: Box, django_capture_on_commit_callbacks: Any
) -> None:
    pv = DeviceFactory(household=world.household, kind=DeviceKind.PV_INVERTER, name="Roof PV")
    heater = DeviceFactory(
        household=world.household, kind=DeviceKind.WATER_HEATER, name="Boiler", controllable=True
    )
    listener = Listener(world.household.pk)
    now = timezone.now()
    reading = meter_reading(timestamp=iso(now), import_w=300, export_w=0)
    devices = [
        {"device_id": str(pv.pk), "timestamp": iso(now), "power_w": 2500},
        {"device_id": str(heater.pk), "timestamp": iso(now), "power_w": 2000, "on": True},
    ]
    body = batch(paired_box, meter=[reading], devices=devices)
    with django_capture_on_commit_callbacks(execute=True):
        assert paired_box.post("telemetry/", body).status_code == 201

    [frame] = frames_of(listener, "flows")
    assert frame["batch_id"] == body["batch_id"]
    assert (frame["grid_import_w"], frame["pv_w"], frame["house_w"]) == (300, 2500, 2800)
    assert frame["self_consumption_w"] == 2500
    assert frame["devices"] == [
        {"id": str(heater.pk), "name": "Boiler", "kind": "water_heater", "power_w": 2000,
         "on": True}
    ]  # fmt: skip
    assert frame["stale"] is False
    assert frame["overload"]["level"] == "ok"
    assert live_snapshot(household_id=world.household.pk) == frame
    # Nobody else's group hears it.
    assert Listener(world.neighbour.pk).messages() == []


def test_near_the_limit_the_household_is_warned_once_per_episode(
    world: World, paired_box: Box, django_capture_on_commit_callbacks: Any
) -> None:
    """Our household: Belgian, 9.2 kVA contracted, no fuse recorded: a 40 A single phase."""
    listener = Listener(world.household.pk)
    start = timezone.now() - timedelta(minutes=3)
    send(paired_box, django_capture_on_commit_callbacks, at=start, import_w=8500)
    send(
        paired_box,
        django_capture_on_commit_callbacks,
        at=start + timedelta(minutes=1),
        import_w=8700,
    )
    [notification] = Notification.objects.filter(household=world.household)
    assert notification.level == OverloadLevel.WARNING
    title, body = notification_text(notification)
    assert title == "You are close to your power limit"
    assert "8.5 kVA of your 9.2 kVA" in body
    pushed = frames_of(listener, "notification")
    assert [p["title"] for p in pushed] == [title]
    [episode] = OverloadEpisode.objects.filter(household=world.household)
    assert episode.ended_at is None and episode.peak_va == 8700

    send(
        paired_box,
        django_capture_on_commit_callbacks,
        at=start + timedelta(minutes=2),
        import_w=900,
    )
    episode.refresh_from_db()
    assert episode.ended_at == start + timedelta(minutes=2)
    assert Notification.objects.filter(household=world.household).count() == 1


def test_an_overrun_is_announced_with_the_minutes_left_and_what_to_switch_off(
    world: World, paired_box: Box, django_capture_on_commit_callbacks: Any
) -> None:
    ev = DeviceFactory(
        household=world.household, kind=DeviceKind.EV_CHARGER, name="Wallbox", controllable=True
    )
    now = timezone.now()
    reading = meter_reading(timestamp=iso(now), import_w=14000, voltage_v=[], current_a=[])
    devices = [{"device_id": str(ev.pk), "timestamp": iso(now), "power_w": 7400, "on": True}]
    with django_capture_on_commit_callbacks(execute=True):
        response = paired_box.post(
            "telemetry/", batch(paired_box, meter=[reading], devices=devices)
        )
    assert response.status_code == 201
    notification = Notification.objects.get(household=world.household)
    assert notification.level == OverloadLevel.CRITICAL
    title, body = notification_text(notification)
    # 14 kW on a 40 A fuse (1.52 In): about 8 minutes on the fuse's thermal curve.
    assert title == "Your supply will trip in 8 minutes at this rate"
    assert "Switch off: Wallbox (7.4 kW)." in body
    frame = live_snapshot(household_id=world.household.pk)
    assert frame is not None
    assert frame["overload"]["switch_off"][0]["name"] == "Wallbox"


def test_a_scheduled_programme_that_would_trip_the_supply_is_named(
    world: World, paired_box: Box, django_capture_on_commit_callbacks: Any
) -> None:
    dryer = DeviceFactory(
        household=world.household, kind=DeviceKind.APPLIANCE, name="Dryer", rated_power_w=3000
    )
    now = timezone.now()
    GatewayCommand.objects.create(
        gateway=paired_box.gateway, household=world.household, device=dryer,
        kind="start_program", not_before=now + timedelta(minutes=10),
    )  # fmt: skip
    send(paired_box, django_capture_on_commit_callbacks, at=now, import_w=8000)
    frame = live_snapshot(household_id=world.household.pk)
    assert frame is not None
    assert frame["overload"]["level"] == "critical"
    assert frame["overload"]["trip_in_s"] is None  # not at this rate ...
    assert [d["name"] for d in frame["overload"]["postpone"]] == ["Dryer"]  # ... but then
    title, body = notification_text(Notification.objects.get(household=world.household))
    assert title.startswith("A scheduled appliance would trip your supply in")
    assert "Postpone: Dryer (3.0 kW)." in body


def test_a_backlog_is_recorded_but_not_announced_as_live(
    world: World, paired_box: Box, django_capture_on_commit_callbacks: Any
) -> None:
    send(
        paired_box, django_capture_on_commit_callbacks,
        at=timezone.now() - timedelta(hours=2), import_w=9000,
    )  # fmt: skip
    assert OverloadEpisode.objects.filter(household=world.household).count() == 1
    assert not Notification.objects.filter(household=world.household).exists()
    frame = live_snapshot(household_id=world.household.pk)
    assert frame is not None and frame["stale"] is True


def test_repeated_overloads_raise_a_staff_alarm(
    world: World, paired_box: Box, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.OVERLOAD_ALARM_EPISODES = 3
    start = timezone.now() - timedelta(minutes=10)
    for n in range(3):
        at = start + timedelta(minutes=2 * n)
        send(paired_box, django_capture_on_commit_callbacks, at=at, import_w=9000)
        assert not GatewayAlarm.objects.filter(kind=AlarmKind.REPEATED_OVERLOAD).exists() or n == 2
        send(
            paired_box,
            django_capture_on_commit_callbacks,
            at=at + timedelta(minutes=1),
            import_w=500,
        )
    [alarm] = GatewayAlarm.objects.filter(kind=AlarmKind.REPEATED_OVERLOAD)
    assert alarm.household == world.household
    assert alarm.message.startswith("3 overloads in 24 h on a 9.2 kVA supply")
    # The tenant's DSO staff see it on the box's page in the console.
    client = Client()
    mfa_login(client, world.users["dso_staff"])
    page = client.get(reverse("console:gateway", args=[paired_box.gateway.pk]))
    assert "Repeated overloads" in page.content.decode()


def test_the_heartbeat_reply_gives_the_box_its_supply_limit(world: World, paired_box: Box) -> None:
    assert paired_box.heartbeat().json()["supply"] == {"limit_va": 9200, "kind": "fuse"}
    world.household.main_fuse_a, world.household.phases = 25, 3
    world.household.save()
    assert paired_box.heartbeat().json()["supply"] == {
        "limit_va": 17250,
        "kind": "fuse",
        "phases": 3,
    }


def test_a_french_household_is_limited_by_its_linky(world: World) -> None:
    limit = world.abroad.supply_limit()
    assert (limit.kind, limit.limit_va) == (
        "linky",
        float(world.abroad.contracted_power_kva) * 1000,
    )


def test_the_guards_actions_are_stored_with_the_batch(world: World, paired_box: Box) -> None:
    heater = DeviceFactory(household=world.household, kind=DeviceKind.WATER_HEATER)
    now = iso(timezone.now())
    action = {
        "device_id": str(heater.pk), "timestamp": now, "action": "shed",
        "load_va": 9100, "limit_va": 9200, "device_power_w": 2000, "reason": "95 % of the limit",
    }  # fmt: skip
    body = {**batch(paired_box), "actions": [action]}
    assert paired_box.post("telemetry/", body).status_code == 201
    [stored] = GuardAction.objects.filter(household=world.household)
    assert (stored.device_id, stored.action, stored.load_va) == (heater.pk, "shed", 9100)


def test_an_action_on_a_device_of_another_household_refuses_the_whole_batch(
    world: World, paired_box: Box
) -> None:
    action = {
        "device_id": str(world.devices["neighbour"].pk), "timestamp": iso(timezone.now()),
        "action": "shed", "load_va": 9100, "limit_va": 9200,
    }  # fmt: skip
    response = paired_box.post("telemetry/", {**batch(paired_box), "actions": [action]})
    assert response.status_code == 422
    assert response.json()["field"] == "$.actions[0].device_id"
    assert not MeterReading.objects.filter(household=world.household).exists()
    assert not GuardAction.objects.exists()


def test_an_unknown_action_is_refused_naming_the_field(paired_box: Box) -> None:
    action = {
        "device_id": str(uuid.uuid4()), "timestamp": iso(timezone.now()),
        "action": "explode", "load_va": 1, "limit_va": 1,
    }  # fmt: skip
    response = paired_box.post("telemetry/", {**batch(paired_box), "actions": [action]})
    assert response.status_code == 422
    assert "$.actions[0].action" in response.json()["field"]


def test_the_chart_gets_a_point_per_meter_reading_and_keeps_fifteen_minutes(
    world: World, paired_box: Box, django_capture_on_commit_callbacks: Any
) -> None:
    pv = DeviceFactory(household=world.household, kind=DeviceKind.PV_INVERTER)
    start = timezone.now() - timedelta(minutes=20)
    meter = [
        meter_reading(timestamp=iso(start + timedelta(seconds=10 * n)), import_w=100 * n,
                      export_w=0, voltage_v=[], current_a=[])
        for n in range(3)
    ]  # fmt: skip
    devices = [
        {"device_id": str(pv.pk), "timestamp": iso(start + timedelta(seconds=5)), "power_w": 700}
    ]
    with django_capture_on_commit_callbacks(execute=True):
        paired_box.post("telemetry/", batch(paired_box, meter=meter, devices=devices))
    frame = live_snapshot(household_id=world.household.pk)
    assert frame is not None
    # The PV reading at +5 s counts from the second meter reading on.
    assert [(p["import"], p["pv"], p["house"]) for p in frame["points"]] == [
        (0, 0, 0), (100, 700, 800), (200, 700, 900)
    ]  # fmt: skip
    assert len(live_history(household_id=world.household.pk)) == 3

    send(
        paired_box,
        django_capture_on_commit_callbacks,
        at=start + timedelta(minutes=15, seconds=15),
        import_w=5,
    )
    # The first two points are now more than 15 minutes older than the newest.
    assert [p["import"] for p in live_history(household_id=world.household.pk)] == [200, 5]


def test_an_upload_counts_as_a_sign_of_life(
    world: World, paired_box: Box, django_capture_on_commit_callbacks: Any
) -> None:
    gateway = paired_box.gateway
    gateway.last_seen_at = timezone.now() - timedelta(hours=1)
    gateway.save(update_fields=["last_seen_at"])
    send(paired_box, django_capture_on_commit_callbacks)
    gateway.refresh_from_db()
    assert timezone.now() - gateway.last_seen_at < timedelta(seconds=30)


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("fr", "Votre compteur va disjoncter dans 8 minutes à ce rythme"),
        ("nl", "Uw aansluiting schakelt af over 8 minuten bij dit verbruik"),
        ("it", "La fornitura scatterà tra 8 minuti a questo ritmo"),
    ],
)
def test_a_notification_is_written_in_the_readers_language(
    world: World, language: str, title: str
) -> None:
    notification = Notification.objects.create(
        household=world.household, kind=Notification.Kind.OVERLOAD,
        level=OverloadLevel.CRITICAL,
        data={"load_va": 14000, "limit_va": 9200, "load_pct": 152.2, "trip_in_s": 483,
              "switch_off": [{"name": "Wallbox", "power_w": 7400}]},
    )  # fmt: skip
    with translation.override(language):
        assert notification_text(notification)[0] == title


def test_a_renamed_or_new_device_shows_in_the_next_frame(
    world: World, paired_box: Box, django_capture_on_commit_callbacks: Any
) -> None:
    heater = DeviceFactory(household=world.household, kind=DeviceKind.WATER_HEATER, name="Boiler")

    def push() -> dict:
        now = iso(timezone.now())
        reading = meter_reading(timestamp=now, voltage_v=[], current_a=[])
        devices = [{"device_id": str(d.pk), "timestamp": now, "power_w": 100}
                   for d in world.household.devices.all()]  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            paired_box.post("telemetry/", batch(paired_box, meter=[reading], devices=devices))
        frame = live_snapshot(household_id=world.household.pk)
        assert frame is not None
        return frame

    assert "Boiler" in [d["name"] for d in push()["devices"]]
    heater.name = "Hot water"
    heater.save()
    DeviceFactory(household=world.household, kind=DeviceKind.SMART_PLUG, name="Heater plug")
    names = [d["name"] for d in push()["devices"]]
    assert "Hot water" in names and "Heater plug" in names and "Boiler" not in names
