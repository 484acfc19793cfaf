"""What the live page shows before its socket speaks: the newest frame, the box, overloads.

The page is rendered from the frame the platform last pushed (apps.live live_snapshot), so
it is complete without JavaScript; static/portal/live.js then opens the household's socket
and keeps the same elements current. Both sides split the frame into the same arrows
(`arrows` here, `arrows` in live.js), keyed `<source>_<target>`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

from apps.fleet.selectors import OFFLINE_AFTER, gateway_list
from apps.households.models import Household
from apps.live import selectors as live
from apps.live.models import OverloadLevel

WINDOW_S = 15 * 60  # the rolling chart's span
QUIET_AFTER_S = 180  # no frame for this long (3 uploads missed): the box is shown offline
WARN_PCT = 90  # the gauge's mark: the overload warning starts at 90 % of the limit


def kva(va: Any) -> str:
    """Apparent power as the supply's limit is written: 9.2 kVA."""
    if va is None or va == "":
        return "—"
    return f"{formats.number_format(Decimal(int(va)) / 1000, 1)} kVA"


def power(watts: Any) -> str:
    """450 W, 1.84 kW: watts below a kilowatt, kilowatts with two decimals (the reader's locale)."""
    if watts is None or watts == "":
        return "—"
    watts = abs(int(watts))
    if watts < 1000:
        return f"{watts} W"
    return f"{formats.number_format(Decimal(watts) / 1000, 2)} kW"


def arrows(frame: dict[str, Any] | None) -> dict[str, int]:
    """The frame's power split into the diagram's arrows, in watts (PV first to the home)."""
    if frame is None:
        return {}
    pv = max(int(frame.get("pv_w") or 0), 0)
    battery = int(frame.get("battery_w") or 0)  # + charging, - discharging
    export = int(frame.get("grid_export_w") or 0)
    charging = max(battery, 0)
    pv_battery = min(charging, pv)
    pv_grid = min(export, pv - pv_battery)
    return {
        "grid_house": int(frame.get("grid_import_w") or 0),
        "pv_house": max(pv - pv_battery - pv_grid, 0),
        "pv_battery": pv_battery,
        "pv_grid": pv_grid,
        "grid_battery": charging - pv_battery,
        "battery_house": max(-battery, 0),
    }


# The diagram (templates/portal/_live_flows.html, viewBox 640 x 330): PV on top at (320, 45),
# the grid left (90, 165), the home right (550, 165), the battery below (320, 285).
ARROW_PATHS = {  # key: (path, label x, label y)
    "grid_house": ("M158,165 L478,165", 410, 150),
    "pv_house": ("M388,66 L498,132", 462, 92),
    "pv_grid": ("M252,66 L142,132", 178, 92),
    "pv_battery": ("M320,78 L320,250", 362, 225),
    "grid_battery": ("M142,198 L252,264", 178, 246),
    "battery_house": ("M388,264 L498,198", 462, 246),
}


def flow_arrows(frame: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The diagram's arrows with their power; an arrow's width grows with its share."""
    watts = arrows(frame)
    largest = max(watts.values(), default=0) or 1
    return [
        {
            "key": key, "d": d, "x": x, "y": y, "source": key.split("_")[0],
            "watts": watts.get(key, 0), "width": round(2 + 10 * watts.get(key, 0) / largest, 1),
        }
        for key, (d, x, y) in ARROW_PATHS.items()
    ]  # fmt: skip


def _device_rows(frame: dict[str, Any] | None) -> list[dict[str, Any]]:
    devices = (frame or {}).get("devices") or []
    top = max((int(d.get("power_w") or 0) for d in devices), default=0) or 1
    return [{**d, "pct": round(100 * int(d.get("power_w") or 0) / top, 1)} for d in devices]


def _gauge(frame: dict[str, Any] | None, household: Household) -> dict[str, Any]:
    overload = (frame or {}).get("overload") or {}
    limit_va = overload.get("limit_va") or round(household.supply_limit().limit_va)
    load_va = overload.get("load_va")
    pct = float(overload.get("load_pct") or 0)
    return {
        "load_va": load_va,
        "limit_va": limit_va,
        "pct": pct,
        "fill": min(pct, 100.0),
        "level": overload.get("level", "ok"),
    }


def _box(
    user: Any, household: Household, frame: dict[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """Online when the box's heartbeat is recent (the fleet's rule) or a batch just came in:
    the frame's last_seen is when the platform took the batch."""
    gateways = list(gateway_list(user=user).filter(household=household))
    seen = [g.last_seen_at for g in gateways if g.last_seen_at is not None]
    if frame and frame.get("last_seen"):
        seen.append(datetime.fromisoformat(frame["last_seen"]))
    last_seen = max(seen, default=None)
    return {
        "installed": bool(gateways),
        "online": last_seen is not None and now - last_seen <= OFFLINE_AFTER,
        "last_seen": last_seen,
    }


def _client_text() -> dict[str, str]:
    """The words live.js writes, in the reader's language (%(n)s and %(time)s filled in)."""
    return {
        "trip_in": _("Your supply will trip in %(n)s min at this rate"),
        "scheduled_trip_in": _("A scheduled appliance would trip your supply in %(n)s min"),
        "near_limit": _("Your home is close to its power limit"),
        "offline": _("Box offline — last seen %(time)s"),
        "never_seen": _("Box offline — no data received yet"),
        "reconnecting": _("Connection lost — reconnecting…"),
        "closed": _("Live updates are not available for this household."),
        "stale": _("Delayed data from %(time)s"),
        "updated": _("Updated %(time)s"),
        "live": _("Live"),
        "connecting": _("Connecting…"),
        "starts_at": _("starts at %(time)s"),
        "of_solar": _("%(pct)s %% of solar"),
        "no_devices": _("No device is drawing power."),
        "dismiss": _("Dismiss"),
        "shed": _("Switched off"),
        "restored": _("Switched back on"),
        "ongoing": _("ongoing"),
        "level_warning": str(OverloadLevel.WARNING.label),
        "level_critical": str(OverloadLevel.CRITICAL.label),
    }


def context(*, household: Household, user: Any, now: datetime) -> dict[str, Any]:
    frame = live.live_snapshot(household_id=household.pk)
    box = _box(user, household, frame, now)
    overload = (frame or {}).get("overload") or {}
    self_w = int((frame or {}).get("self_consumption_w") or 0)
    pv_w = int((frame or {}).get("pv_w") or 0)
    return {
        "household": household,
        "frame": frame,
        "box": box,
        "flow_arrows": flow_arrows(frame),
        "devices": _device_rows(frame),
        "gauge": _gauge(frame, household),
        "warn_pct": WARN_PCT,
        "overload": overload,
        "self_pct": round(100 * self_w / pv_w) if pv_w else None,
        "guard_actions": live.guard_actions(household_id=household.pk),
        "episodes": live.overload_episodes(household_id=household.pk),
        "live_config": {
            "household": str(household.pk),
            "socket": f"/ws/households/{household.pk}/",
            "timezone": household.timezone,
            "window_s": WINDOW_S,
            "quiet_after_s": QUIET_AFTER_S,
            "offline_after_s": int(OFFLINE_AFTER.total_seconds()),
            "online": box["online"],
            "last_seen": box["last_seen"].isoformat() if box["last_seen"] else None,
            "history": live.live_history(household_id=household.pk),
            "warn_pct": WARN_PCT,
            "text": _client_text(),
        },
    }
