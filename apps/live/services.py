"""After each ingested batch: assess the overload risk, notify, and push the live frame.

Runs on the ingest's commit (telemetry.services), in the web process that took the batch.
The frame reaches every socket of the household in every server process through the
channel layer's group `household.<id>` (Redis pub/sub when REDIS_URL is set).
The breaker's thermal state between batches lives in the cache (Redis in production), so
any web process can take the next batch.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.devices.models import Device, DeviceKind
from apps.fleet import selectors as fleet_selectors
from apps.fleet import services as fleet_services
from apps.fleet.models import AlarmKind, Gateway
from apps.households.models import Household
from apps.live import frames
from apps.live.models import Notification, OverloadEpisode, OverloadLevel
from apps.live.overload import HORIZON, Assessment, Level, Load, Thermal, assess
from gateway_agent.protocol import TelemetryBatch
from gateway_agent.tripmodel import SupplyLimit

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=5)  # a batch older than this is a backlog: no live warning
STATE_TTL_S = 24 * 3600
HISTORY = timedelta(minutes=15)  # the live chart's span
MAX_HISTORY_POINTS = 400
GENERATING_KINDS = {DeviceKind.PV_INVERTER, DeviceKind.BATTERY}


def household_group(household_id: Any) -> str:
    return f"household.{household_id}"


def frame_key(household_id: Any) -> str:
    return f"live:frame:{household_id}"


def devices_key(household_id: Any) -> str:
    """The household's devices as the live frame names them (dropped when one changes)."""
    return f"live:devices:{household_id}"


def history_key(household_id: Any) -> str:
    return f"live:history:{household_id}"


def _state_key(household_id: Any) -> str:
    return f"live:overload:{household_id}"


def publish(household_id: Any, payload: dict[str, Any]) -> None:
    """Send one message to every socket of the household, in every server process."""
    message = {"type": "household.event", "payload": payload}
    async_to_sync(get_channel_layer().group_send)(household_group(household_id), message)


def access_changed(household_id: Any) -> None:
    """Tell the household's sockets to check their reader's access again (a grant went)."""
    message = {"type": "access.changed"}
    async_to_sync(get_channel_layer().group_send)(household_group(household_id), message)


def live_batch_ingested(*, gateway_id: uuid.UUID, batch: TelemetryBatch) -> None:
    """Queue the live step for after the ingest's commit; a failure there never undoes it."""
    transaction.on_commit(lambda: _after_commit(gateway_id, batch), robust=True)


def _after_commit(gateway_id: uuid.UUID, batch: TelemetryBatch) -> None:
    gateway = Gateway.objects.select_related("household__tenant").get(pk=gateway_id)
    if gateway.household is None:
        return
    live_push(household=gateway.household, batch=batch, last_seen=timezone.now())


def live_push(
    *, household: Household, batch: TelemetryBatch, last_seen: datetime | None
) -> dict[str, Any] | None:
    """Assess and publish the batch's newest state; returns the frame (None: no meter data).

    The cached state (the household's devices, the breaker, the chart's history) is read in
    one round trip and written, with the new frame, in another."""
    keys = {
        "devices": devices_key(household.pk),
        "state": _state_key(household.pk),
        "history": history_key(household.pk),
    }
    cached = cache.get_many(keys.values())
    devices = cached.get(keys["devices"]) or _device_info(household.pk)
    frame = frames.flows_frame(
        household_id=str(household.pk), batch=batch, devices=devices, last_seen=last_seen
    )
    if frame is None:
        return None
    stale = timezone.now() - datetime.fromisoformat(frame["time"]) > STALE_AFTER
    state, assessment, notification = _overload_step(
        household, batch, devices, cached.get(keys["state"]) or {}, stale=stale
    )
    frame["stale"] = stale
    frame["overload"] = assessment_payload(assessment, household.supply_limit())
    history = _with_points(cached.get(keys["history"]) or [], frame["points"])
    cache.set_many(
        {
            frame_key(household.pk): frame,
            keys["devices"]: devices,
            keys["state"]: state,
            keys["history"]: history,
        },
        timeout=STATE_TTL_S,
    )
    publish(household.pk, frame)
    if notification is not None:
        publish(household.pk, notification_payload(notification))
    return frame


def _with_points(history: list[dict[str, Any]], points: list[dict[str, Any]]) -> list[Any]:
    """The live chart's last HISTORY with the batch's points, so a page opens with its chart."""
    by_time = {p["t"]: p for p in history}
    by_time.update((p["t"], p) for p in points)
    if not by_time:
        return []
    newest = datetime.fromisoformat(max(by_time))
    keep = [by_time[t] for t in sorted(by_time) if newest - datetime.fromisoformat(t) <= HISTORY]
    return keep[-MAX_HISTORY_POINTS:]


def _device_info(household_id: Any) -> dict[str, frames.DeviceInfo]:
    rows = Device.objects.filter(household_id=household_id).values_list(
        "pk", "name", "kind", "controllable", "rated_power_w"
    )
    return {
        str(pk): frames.DeviceInfo(name, kind, ctl, rated) for pk, name, kind, ctl, rated in rows
    }


# Overload -------------------------------------------------------------------------------


def _overload_step(
    household: Household,
    batch: TelemetryBatch,
    devices: dict[str, frames.DeviceInfo],
    state: dict[str, Any],
    *,
    stale: bool,
) -> tuple[dict[str, Any], Assessment, Notification | None]:
    """The breaker's state after the batch, the assessment, and a notification if due."""
    limit = household.supply_limit()
    thermal = Thermal(**state["thermal"]) if "thermal" in state else Thermal()
    load_va = 0.0
    for reading in sorted(batch.meter, key=lambda r: r.timestamp):
        ratio = limit.reading_ratio(reading.import_w, reading.voltage_v, reading.current_a)
        thermal.update(reading.timestamp, ratio, limit)
        load_va = ratio * limit.limit_va
    assert thermal.time is not None
    assessment = assess(
        limit=limit,
        thermal=thermal,
        load_va=load_va,
        now=thermal.time,
        running=_running(batch, devices),
        scheduled=_scheduled(household.pk, thermal.time),
    )
    episode_id, notification = _track_episode(
        household, state.get("episode"), assessment, thermal.time, stale=stale
    )
    return {"thermal": asdict(thermal), "episode": episode_id}, assessment, notification


def _running(batch: TelemetryBatch, devices: dict[str, frames.DeviceInfo]) -> list[Load]:
    _, readings = frames.newest_readings(batch)
    return [
        Load(device_id, info.name, float(reading.power_w), info.controllable)
        for device_id, reading in readings.items()
        if (info := devices.get(device_id)) and info.kind not in GENERATING_KINDS
        and reading.power_w > 0
    ]  # fmt: skip


def _scheduled(household_id: Any, now: datetime) -> list[Load]:
    commands = fleet_selectors.commands_starting(
        household_id=household_id, start=now, end=now + HORIZON
    )
    return [
        Load(str(c.device_id), c.device.name, float(c.device.rated_power_w), True, c.not_before)
        for c in commands
    ]


def _track_episode(
    household: Household,
    episode_id: str | None,
    assessment: Assessment,
    time: datetime,
    *,
    stale: bool,
) -> tuple[str | None, Notification | None]:
    """Open an episode at the first warning, escalate it, close it when the load is back under
    90 %. The household is notified when an episode opens or becomes critical, not per batch."""
    open_episodes = OverloadEpisode.objects.filter(ended_at__isnull=True)
    episode = open_episodes.filter(pk=episode_id).first() if episode_id else None
    if assessment.level is Level.OK:
        if episode is not None:
            episode.ended_at = time
            episode.save(update_fields=["ended_at"])
        return None, None
    level = OverloadLevel(assessment.level.value)
    trip_in = _finite_s(min(assessment.trip_in_s, assessment.scheduled_trip_in_s))
    if episode is None:
        episode = OverloadEpisode.objects.create(
            household=household, started_at=time, level=level,
            peak_va=round(assessment.load_va), limit_va=round(assessment.limit_va),
            shortest_trip_in_s=trip_in,
        )  # fmt: skip
        _alarm_if_repeated(household, time)
        return str(episode.pk), None if stale else _notify(household, assessment, level)
    escalated = level == OverloadLevel.CRITICAL and episode.level != OverloadLevel.CRITICAL
    episode.level = OverloadLevel.CRITICAL if escalated else episode.level
    episode.peak_va = max(episode.peak_va, round(assessment.load_va))
    if trip_in is not None:
        episode.shortest_trip_in_s = min(trip_in, episode.shortest_trip_in_s or trip_in)
    episode.save(update_fields=["level", "peak_va", "shortest_trip_in_s"])
    notification = _notify(household, assessment, level) if escalated and not stale else None
    return str(episode.pk), notification


def _finite_s(seconds: float) -> int | None:
    return None if seconds == float("inf") else round(seconds)


def _notify(household: Household, assessment: Assessment, level: OverloadLevel) -> Notification:
    return Notification.objects.create(
        household=household,
        kind=Notification.Kind.OVERLOAD,
        level=level,
        data=assessment_payload(assessment, household.supply_limit()),
    )


def _alarm_if_repeated(household: Household, time: datetime) -> None:
    """Staff hear of a household that overloads again and again (undersized contract)."""
    window = timedelta(hours=settings.OVERLOAD_ALARM_WINDOW_HOURS)
    count = OverloadEpisode.objects.filter(household=household, started_at__gte=time - window)
    episodes = count.count()
    if episodes < settings.OVERLOAD_ALARM_EPISODES:
        return
    gateway = household.gateways.first()
    if gateway is not None:
        fleet_services.alarm_raise(
            gateway=gateway,
            kind=AlarmKind.REPEATED_OVERLOAD,
            message=f"{episodes} overloads in {settings.OVERLOAD_ALARM_WINDOW_HOURS} h "
            f"on a {household.supply_limit().limit_va / 1000:.1f} kVA supply",
        )


# Payloads -------------------------------------------------------------------------------


def _load_payload(load: Load) -> dict[str, Any]:
    return {
        "id": load.device_id,
        "name": load.name,
        "power_w": round(load.power_w),
        "starts_at": load.starts_at.isoformat() if load.starts_at else None,
    }


def assessment_payload(assessment: Assessment, limit: SupplyLimit) -> dict[str, Any]:
    return {
        "level": assessment.level.value,
        "load_va": round(assessment.load_va),
        "limit_va": round(assessment.limit_va),
        "limit_kind": limit.kind,
        "load_pct": round(assessment.load_pct, 1),
        "trip_in_s": _finite_s(assessment.trip_in_s),
        "scheduled_trip_in_s": _finite_s(assessment.scheduled_trip_in_s),
        "switch_off": [_load_payload(load) for load in assessment.switch_off],
        "postpone": [_load_payload(load) for load in assessment.postpone],
    }


def notification_payload(notification: Notification) -> dict[str, Any]:
    from apps.live.messages import notification_text  # the reader's language, at send time

    title, body = notification_text(notification)
    return {
        "type": "notification",
        "id": str(notification.pk),
        "kind": notification.kind,
        "level": notification.level,
        "title": title,
        "body": body,
        "created_at": notification.created_at.isoformat(),
    }


def notification_mark_read(*, notifications: Any, now: datetime) -> int:
    return int(notifications.filter(read_at__isnull=True).update(read_at=now))
