"""The overload guard: switch controllable loads off before the supply trips, and back on.

Fed every meter frame (before the agent keeps one per sample interval), it follows the
breaker's thermal state with the same model the platform warns households with
(tripmodel.py), and decides, one device at a time:

- shed when the load stays at or above `shed_ratio` of the limit for `confirm_s` (a kettle's
  inrush is shorter), or at once when the breaker would trip within `trip_margin_s` at the
  load now. The victim is the first device, by the kind order of `priority`, that is on and
  draws at least `min_power_w`; after a shed the guard waits `settle_s` for the meter to show
  its effect before shedding the next.
- restore the device shed last, once it has been off `min_off_s` and the load plus its power
  when shed fits under `restore_ratio` of the limit, one every `restore_gap_s`. The gap
  between the two ratios is the hysteresis: a load hovering about the shed threshold is shed
  once and stays off until there is room for it.
- only what the guard switched off is ever switched back on; a device a command (a plan, the
  user) switches meanwhile, or that is seen on again, is forgotten.

It is local, like the command executor: it works with the link down. The limit comes from
the configuration, or else from the platform's last heartbeat reply; that one and the list
of shed devices are kept in `overload.json` in the state directory, so a restarted box
guards at once and can still restore what it shed. Each action is returned as a
protocol.LoadAction for the agent to store in the outbox.

Standard library only (plus the light protocol and tripmodel modules): it runs on the box.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast

from gateway_agent import tripmodel
from gateway_agent.config import OverloadConfig
from gateway_agent.devices import DeviceAdapter
from gateway_agent.protocol import Command, LoadAction, MeterReading, SupplyLimitMessage

log = logging.getLogger(__name__)

STATE_FILE = "overload.json"
MAX_GAP_S = 60.0  # a gap in the readings counts at most this long at the load last seen


@dataclass
class ShedDevice:
    device_id: uuid.UUID
    power_w: int  # what it drew when shed
    shed_at: float | None  # clock monotonic seconds; None: shed before a restart


class OverloadGuard:
    def __init__(
        self,
        settings: OverloadConfig,
        devices: Mapping[uuid.UUID, DeviceAdapter],
        state_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.devices = devices
        self.path = state_dir / STATE_FILE if state_dir is not None else None
        self.lock = threading.RLock()
        self.theta = 0.0  # the breaker's thermal state (tripmodel)
        self.platform_limit: tripmodel.SupplyLimit | None = None
        self.shed: list[ShedDevice] = []  # in the order shed: the last is restored first
        self._last: tuple[float, float] | None = None  # (monotonic, load ratio)
        self._over_since: float | None = None
        self._last_shed = -math.inf
        self._last_restore = -math.inf
        self._said_nothing_left = False
        self._load()

    # -- the limit --------------------------------------------------------------------------

    @property
    def limit(self) -> tripmodel.SupplyLimit | None:
        """The configured limit, else the platform's; None: unknown, the guard idles."""
        s = self.settings
        if s.limit_va is not None:
            kind = cast(tripmodel.LimitKind, s.kind)
            return tripmodel.SupplyLimit(limit_va=s.limit_va, kind=kind, phases=s.phases)
        return self.platform_limit

    @property
    def active(self) -> bool:
        """Enabled, with a limit, and with something it may shed."""
        priority = self.settings.priority
        return (
            self.settings.enabled
            and self.limit is not None
            and any(device.kind in priority for device in self.devices.values())
        )

    def set_platform_supply(self, supply: SupplyLimitMessage) -> None:
        """The contract's limit from a heartbeat reply: kept for the next restart."""
        limit = tripmodel.SupplyLimit(
            limit_va=float(supply.limit_va), kind=supply.kind, phases=supply.phases
        )
        with self.lock:
            if limit == self.platform_limit:
                return
            self.platform_limit = limit
            self._save()
        used = "" if self.settings.limit_va is None else " (the configured limit is used)"
        log.info("supply limit from the platform: %.0f VA %s%s", limit.limit_va, limit.kind, used)

    # -- the decisions ----------------------------------------------------------------------

    def observe(self, reading: MeterReading, monotonic: float, now: datetime) -> list[LoadAction]:
        """One meter frame at `monotonic` (clock seconds): the actions taken, if any."""
        limit = self.limit
        if not self.settings.enabled or limit is None:
            return []
        with self.lock:
            ratio = limit.reading_ratio(reading.import_w, reading.voltage_v, reading.current_a)
            load = tripmodel.load_va(reading.import_w, reading.voltage_v, reading.current_a)
            self._advance(limit, ratio, monotonic)
            self._forget_switched_on()
            s = self.settings
            over = ratio >= s.shed_ratio
            if not over:
                self._over_since = None
                self._said_nothing_left = False
            elif self._over_since is None:
                self._over_since = monotonic
            over_for = monotonic - self._over_since if self._over_since is not None else 0.0
            to_trip = tripmodel.seconds_to_trip(self.theta, ratio, limit.curve)
            urgent = to_trip < s.trip_margin_s
            if urgent or (over and over_for >= s.confirm_s):
                if monotonic - self._last_shed < s.settle_s:
                    return []
                why = (
                    f"the breaker would trip in {to_trip:.0f} s at {ratio:.0%} of the limit"
                    if urgent
                    else f"{ratio:.0%} of the limit for {over_for:.0f} s"
                )
                action = self._shed_one(limit, load, why, monotonic, now)
            elif not over:
                action = self._restore_one(limit, ratio, load, monotonic, now)
            else:
                action = None
            return [action] if action is not None else []

    def forget(self, device_id: uuid.UUID) -> None:
        """A command switched this device: it is not the guard's to restore any more."""
        with self.lock:
            before = len(self.shed)
            self.shed = [entry for entry in self.shed if entry.device_id != device_id]
            if len(self.shed) != before:
                log.info("overload guard: %s was switched by a command; forgotten", device_id)
                self._save()

    def _advance(self, limit: tripmodel.SupplyLimit, ratio: float, monotonic: float) -> None:
        """The thermal state since the last frame, at the higher of the two loads seen (the
        load changed somewhere in between): errs towards shedding early."""
        if self._last is not None:
            then, before = self._last
            gap = min(max(monotonic - then, 0.0), MAX_GAP_S)
            self.theta = tripmodel.advance(self.theta, max(before, ratio), gap, limit.curve)
        self._last = (monotonic, ratio)

    def _forget_switched_on(self) -> None:
        """A shed device seen on again was switched on by someone else (at the device)."""
        on_again = [
            entry
            for entry in self.shed
            if (device := self.devices.get(entry.device_id)) is None or device.on is True
        ]
        for entry in on_again:
            self.shed.remove(entry)
            log.info(
                "overload guard: %s is on again (not by the guard); forgotten", entry.device_id
            )
        if on_again:
            self._save()

    def _candidate(self) -> DeviceAdapter | None:
        shed = {entry.device_id for entry in self.shed}
        for kind in self.settings.priority:
            for device in self.devices.values():
                if (
                    device.kind == kind
                    and device.device_id not in shed
                    and device.on is not False
                    and device.power_w >= self.settings.min_power_w
                ):
                    return device
        return None

    def _shed_one(
        self,
        limit: tripmodel.SupplyLimit,
        load: float,
        why: str,
        monotonic: float,
        now: datetime,
    ) -> LoadAction | None:
        device = self._candidate()
        if device is None:
            if not self._said_nothing_left:
                self._said_nothing_left = True  # once per overload
                log.warning("overload guard: %s, and nothing left to shed", why)
            return None
        power = round(device.power_w)
        # kept before switching: a crash in between may later restore a device that is on
        # (harmless), never leave one off that the guard forgot
        self.shed.append(ShedDevice(device.device_id, power, monotonic))
        self._save()
        if not self._switch(device, "switch_off", now):
            self.shed.pop()
            self._save()
            self._last_shed = monotonic  # do not hammer it: try the next one after settle_s
            return None
        self._last_shed = monotonic
        return self._action(device, "shed", load, limit, power, why, now)

    def _restore_one(
        self,
        limit: tripmodel.SupplyLimit,
        ratio: float,
        load: float,
        monotonic: float,
        now: datetime,
    ) -> LoadAction | None:
        s = self.settings
        if not self.shed or monotonic - self._last_restore < s.restore_gap_s:
            return None
        if monotonic - self._last_shed < s.settle_s:
            return None
        entry = self.shed[-1]
        if entry.shed_at is None:  # shed before a restart: count its off time from now
            entry.shed_at = monotonic
        if monotonic - entry.shed_at < s.min_off_s:
            return None
        weight = limit.phases if limit.kind == "fuse" else 1  # a device may sit on one phase
        after = ratio + entry.power_w * weight / limit.limit_va
        if after > s.restore_ratio:
            return None
        device = self.devices.get(entry.device_id)
        self.shed.pop()
        self._save()
        if device is None or not self._switch(device, "switch_on", now):
            return None
        self._last_restore = monotonic
        why = f"{after:.0%} of the limit with it back on (at most {s.restore_ratio:.0%})"
        return self._action(device, "restore", load, limit, 0, why, now)

    def _switch(
        self, device: DeviceAdapter, kind: Literal["switch_on", "switch_off"], now: datetime
    ) -> bool:
        command = Command(id=uuid.uuid4(), kind=kind, device_id=device.device_id)
        try:
            outcome = device.execute(command, now)
        except Exception:
            log.exception("overload guard: %s on %s failed", kind, device.device_id)
            return False
        if outcome.status == "failed":
            log.error(
                "overload guard: %s on %s failed: %s", kind, device.device_id, outcome.message
            )
            return False
        return True

    def _action(
        self,
        device: DeviceAdapter,
        action: Literal["shed", "restore"],
        load: float,
        limit: tripmodel.SupplyLimit,
        power_w: int,
        why: str,
        now: datetime,
    ) -> LoadAction:
        reason = f"{device.kind}: {why}"[:200]  # the agent logs it with the box's serial
        return LoadAction(
            device_id=device.device_id,
            timestamp=now,
            action=action,
            load_va=max(0, round(load)),
            limit_va=round(limit.limit_va),
            device_power_w=power_w,
            reason=reason,
        )

    # -- persistence ------------------------------------------------------------------------

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            saved: dict[str, Any] = json.loads(self.path.read_text())
            supply = saved.get("supply")
            if supply is not None:
                self.platform_limit = tripmodel.SupplyLimit(
                    limit_va=float(supply["limit_va"]),
                    kind=supply["kind"],
                    phases=int(supply["phases"]),
                )
            self.shed = [
                ShedDevice(uuid.UUID(entry["device_id"]), int(entry["power_w"]), None)
                for entry in saved.get("shed", [])
            ]
        except (ValueError, KeyError, TypeError) as error:
            log.error("overload state %s unreadable (%s): starting without it", self.path, error)

    def _save(self) -> None:
        """Written whole, then renamed over the old one (fsynced: it outlives a power cut)."""
        if self.path is None:
            return
        limit = self.platform_limit
        data = {
            "supply": None
            if limit is None
            else {"limit_va": limit.limit_va, "kind": limit.kind, "phases": limit.phases},
            "shed": [
                {"device_id": str(entry.device_id), "power_w": entry.power_w} for entry in self.shed
            ],
        }
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w") as file:
            json.dump(data, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, self.path)
