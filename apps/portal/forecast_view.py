"""What the forecast page shows: a day's PV and load forecasts against the measurements.

The figures are apps.forecasting.selectors.forecast_vs_actual's (MAE, RMSE, skill against
persistence); this module draws them as a line chart with the energy page's SVG helpers
(apps.portal.charts) and writes the error in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from apps.core.permissions import Action
from apps.energy import periods
from apps.forecasting import selectors
from apps.forecasting.models import Forecast, ForecastKind, Horizon, PvSystem
from apps.households.models import Household
from apps.portal.charts import AXIS, HEIGHT, WIDTH, nice_ceiling

QUARTER = timedelta(minutes=15)
TICK_EVERY_H = 3


@dataclass
class Line:
    css: str  # the series' class: s-forecast, s-actual, s-intraday (static/css/app.css)
    label: str
    wh: dict[datetime, float] = field(default_factory=dict)


def _points(slots: list[datetime], line: Line, top: float) -> str:
    """The line's SVG path: one segment per run of quarters with a value."""
    step = (WIDTH - AXIS) / max(len(slots), 1)
    parts, pen_down = [], False
    for index, moment in enumerate(slots):
        value = line.wh.get(moment)
        if value is None:
            pen_down = False
            continue
        x = AXIS + (index + 0.5) * step
        y = HEIGHT - value / 1000 / top * (HEIGHT - 20)
        parts.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
        pen_down = True
    return " ".join(parts)


def line_chart(slots: list[datetime], lines: list[Line], zone: ZoneInfo) -> SafeString:
    """kWh per quarter over a local day (92, 96 or 100 quarters), a line per series."""
    top = nice_ceiling(max((v / 1000 for line in lines for v in line.wh.values()), default=0))
    step = (WIDTH - AXIS) / max(len(slots), 1)
    ticks = [
        (f"{AXIS + (i + 0.5) * step:.1f}", HEIGHT + 16, local.strftime("%H:%M"))
        for i, local in enumerate(moment.astimezone(zone) for moment in slots)
        if local.minute == 0 and local.hour % TICK_EVERY_H == 0
    ]
    paths = [
        (f"series {line.css}", _points(slots, line, top), line.label) for line in lines if line.wh
    ]
    return format_html(
        '<svg class="chart forecast-chart" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<text x="0" y="12" class="axis">{} kWh</text>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="baseline"/>{}{}</svg>',
        WIDTH, HEIGHT + 24, _("kWh per quarter hour"), f"{top:g}", AXIS, HEIGHT, WIDTH, HEIGHT,
        format_html_join("", '<text x="{}" y="{}" class="tick">{}</text>', ticks),
        format_html_join("", '<path class="{}" d="{}"><title>{}</title></path>', paths),
    )  # fmt: skip


def energy(wh: float | None) -> str:
    """0.12 kWh, or 45 Wh below a tenth of a kWh (night-time errors are small)."""
    if wh is None:
        return "—"
    if abs(wh) < 100:
        return f"{formats.number_format(round(wh), 0)} Wh"
    return f"{formats.number_format(Decimal(wh) / 1000, 2)} kWh"


def skill_text(skill: float | None) -> str:
    if skill is None:
        return _("not enough measurements of the day before to compare with it")
    pct = round(abs(skill) * 100)
    if pct == 0:
        return _("as good as assuming yesterday repeats")
    if skill > 0:
        return _("%(pct)s %% better than assuming yesterday repeats") % {"pct": pct}
    return _("%(pct)s %% worse than assuming yesterday repeats") % {"pct": pct}


def _part(
    *, household: Household, kind: str, start: datetime, end: datetime, today: bool,
    zone: ZoneInfo,
) -> dict[str, Any]:  # fmt: skip
    """One kind's chart and figures for the day."""
    result = selectors.forecast_vs_actual(
        household_id=household.pk, kind=kind, start=start, end=end
    )
    measured_at, measured_wh = selectors.measured(
        household=household, kind=kind, start=start, end=end
    )
    actual = Line(
        "s-actual", _("Measured"),
        {s.to_pydatetime(): float(v) for s, v in zip(measured_at, measured_wh, strict=True)},
    )  # fmt: skip
    day_ahead = {moment: float(wh) for moment, wh, _actual in result["series"]}
    lines = [Line("s-forecast", _("Forecast the day before"), day_ahead)]
    if today:
        intraday = selectors.forecast_series(
            household_id=household.pk, kind=kind, start=start, end=end, horizon=Horizon.INTRADAY
        )
        updated = {moment: float(wh) for moment, wh in intraday}
        lines.append(Line("s-intraday", _("Updated during the day"), updated))
    lines.append(actual)
    has_forecast = any(line.wh for line in lines if line is not actual)
    slots = periods.steps(start, end, QUARTER)
    return {
        "kind": kind,
        "result": result,
        "has_forecast": has_forecast,
        "lines": [line for line in lines if line.wh],
        "chart": line_chart(slots, lines, zone) if has_forecast else None,
        "mae": energy(result["mae_wh"]),
        "rmse": energy(result["rmse_wh"]),
        "skill_pct": None if result["skill"] is None else round(result["skill"] * 100),
        "skill_text": skill_text(result["skill"]),
        "forecast_total": energy(result["forecast_wh"]),
        "actual_total": energy(result["actual_wh"]) if result["measured_quarters"] else None,
    }


def context(*, user: Any, household: Household, day: date, now: datetime) -> dict[str, Any]:
    """The caller has checked the reader's quarter-hour access to the household."""
    zone = ZoneInfo(household.timezone)
    today = periods.local_date(now, zone)
    start = periods.local_midnight(day, zone)
    end = periods.local_midnight(day + timedelta(days=1), zone)
    has_pv = PvSystem.objects.restrict(user, Action.VIEW).filter(household=household).exists()
    any_forecast = Forecast.objects.restrict(user, Action.VIEW).filter(household=household).exists()
    kinds = [ForecastKind.PV, ForecastKind.LOAD] if has_pv else [ForecastKind.LOAD]
    parts = []
    if any_forecast:
        parts = [
            _part(household=household, kind=kind, start=start, end=end, today=day == today,
                  zone=zone)
            for kind in kinds
        ]  # fmt: skip
    return {
        "household": household,
        "day": day,
        "day_start": start,
        "is_today": day == today,
        "is_future": day > today,
        "previous_date": (day - timedelta(days=1)).isoformat(),
        "next_date": (day + timedelta(days=1)).isoformat() if day <= today else None,
        "today_date": today.isoformat(),
        "has_pv": has_pv,
        "any_forecast": any_forecast,
        "parts": parts,
    }
