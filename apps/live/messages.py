"""Overload notifications in words, written in the reader's language when shown."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.live.models import Notification, OverloadLevel


def _kva(va: Any) -> str:
    return f"{(va or 0) / 1000:.1f}"


def _minutes(seconds: int) -> int:
    return max(1, round(seconds / 60))


def _devices(loads: list[dict[str, Any]]) -> str:
    return ", ".join(f"{d['name']} ({_kva(d['power_w'])} kW)" for d in loads)


def notification_text(notification: Notification) -> tuple[str, str]:
    """(title, body) of an overload notification."""
    data = notification.data
    usage = _("You are using %(load)s kVA of your %(limit)s kVA limit (%(pct)s %%).") % {
        "load": _kva(data.get("load_va")),
        "limit": _kva(data.get("limit_va")),
        "pct": round(data.get("load_pct") or 0),
    }
    lines = [usage]
    trip_in = data.get("trip_in_s")
    scheduled_trip_in = data.get("scheduled_trip_in_s")
    if notification.level == OverloadLevel.CRITICAL and trip_in is not None:
        minutes = _minutes(trip_in)
        title = ngettext(
            "Your supply will trip in %(n)d minute at this rate",
            "Your supply will trip in %(n)d minutes at this rate",
            minutes,
        ) % {"n": minutes}
    elif notification.level == OverloadLevel.CRITICAL and scheduled_trip_in is not None:
        minutes = _minutes(scheduled_trip_in)
        title = ngettext(
            "A scheduled appliance would trip your supply in %(n)d minute",
            "A scheduled appliance would trip your supply in %(n)d minutes",
            minutes,
        ) % {"n": minutes}
    else:
        title = _("You are close to your power limit")
    if data.get("switch_off"):
        lines.append(_("Switch off: %(devices)s.") % {"devices": _devices(data["switch_off"])})
    if data.get("postpone"):
        lines.append(_("Postpone: %(devices)s.") % {"devices": _devices(data["postpone"])})
    return title, " ".join(lines)
