"""One run of the lab: simulate, ingest, read as every role, attack, and roll everything back.

Rows: the raw baseline (the simulated minutes, no platform), then each role at the
household's default consent and at each opt-in, attacking exactly what the consumption
API returned to it; then the defences on top of the finest view a recipient gets
(Laplace noise, daily aggregation) and the battery load-hiding option, which changes what
the meter itself sees (applied to the raw minutes and, offline, at the resolution the
API served the consented third party).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings

from apps.privacy.lab import platform
from apps.privacy.lab.attacks import ATTACKS, run_attack
from apps.privacy.lab.households import Household, battery_levelled, simulate
from apps.privacy.lab.platform import CONSENT_ROLE, CONSENTS, ROLE_OF, View

SHIPPED_RESULTS = Path(__file__).with_name("results.json")
NOISE_KWH_PER_POINT = 0.1  # Laplace scale: sensitivity 0.1 kWh per point at epsilon 1
OPT_IN = "15m_energy_services"  # the consent the defences are measured on


def results_path() -> Path:
    return Path(getattr(settings, "PRIVACY_LAB_RESULTS", "") or SHIPPED_RESULTS)


@dataclass
class Scenario:
    role: str
    consent: str
    defence: str
    views: list[View]

    @property
    def resolution_seen(self) -> str:
        seen = {view.resolution for view in self.views}
        return "nothing" if seen == {None} else ",".join(sorted(str(r) for r in seen))


def raw_view(home: Household, power_w: np.ndarray) -> View:
    index = pd.date_range(home.start, periods=power_w.size, freq="1min")
    return View("1m", pd.Series(power_w, index=index))


def _api_views(homes: list[Household]) -> dict[tuple[str, str], list[View]]:
    """Every role's reads through the API, inside a transaction that is rolled back."""
    views: dict[tuple[str, str], list[View]] = {}
    # The API is called in-process: the test client's host must pass ALLOWED_HOSTS.
    allowed = [*settings.ALLOWED_HOSTS, "testserver"]
    with override_settings(ALLOWED_HOSTS=allowed), transaction.atomic():
        sandbox = platform.build(homes)
        for household, home in zip(sandbox.households, homes, strict=True):
            platform.ingest(household, home, home.power_w)
        for consent, apply in CONSENTS.items():
            apply(sandbox)
            roles = list(ROLE_OF) if consent == "default" else [CONSENT_ROLE[consent]]
            for role in roles:
                client = platform.client_for(sandbox.users[role])
                views[(role, consent)] = [
                    platform.fetch(client, household, home)
                    for household, home in zip(sandbox.households, homes, strict=True)
                ]
                client.logout()  # its session may live outside the database
        transaction.set_rollback(True)
    return views


def noisy(view: View, rng: np.random.Generator) -> View:
    if view.series is None:
        return view
    hours = _point_hours(view)
    scale_w = NOISE_KWH_PER_POINT * 1000 / hours
    noise = rng.laplace(0, scale_w, view.series.size)
    return View(view.resolution, (view.series + noise).clip(lower=0), view.status)


def _point_hours(view: View) -> float:
    return {"1m": 1 / 60, "15m": 0.25, "30m": 0.5, "1h": 1.0, "1d": 24.0}.get(
        str(view.resolution), 720.0
    )


def daily(view: View, home: Household) -> View:
    """The view summed to local days (as mean power per day)."""
    if view.series is None:
        return view
    local = view.series.tz_convert(home.zone).resample("1D").mean()
    local.index = local.index.tz_convert("UTC")
    return View("1d", local, view.status)


def resampled(view: View, home: Household, power_w: np.ndarray) -> View:
    """`power_w` at the resolution of `view` (the battery's meter, as the API would serve it)."""
    if view.series is None:
        return view
    minutes = raw_view(home, power_w)
    if view.resolution == "1d":
        return daily(minutes, home)
    if view.resolution == "1mo":  # local calendar months
        assert minutes.series is not None
        months = minutes.series.tz_convert(home.zone).resample("MS").mean()
        return View("1mo", months.tz_convert("UTC"), view.status)
    rule = {"15m": "15min", "30m": "30min", "1h": "1h"}.get(str(view.resolution), "MS")
    assert minutes.series is not None
    return View(view.resolution, minutes.series.resample(rule).mean(), view.status)


def scenarios(homes: list[Household], seed: int) -> list[Scenario]:
    views = _api_views(homes)
    battery = [battery_levelled(home.power_w) for home in homes]
    rng = np.random.default_rng(seed)
    raw = [raw_view(home, home.power_w) for home in homes]
    out = [Scenario("raw", "default", "none", raw)]
    for (role, consent), role_views in views.items():
        out.append(Scenario(role, consent, "resolution", role_views))
    opted = views[("third_party", OPT_IN)]
    out += [
        Scenario("third_party", OPT_IN, "resolution+noise", [noisy(v, rng) for v in opted]),
        Scenario("third_party", OPT_IN, "resolution+aggregation",
                 [daily(v, h) for v, h in zip(opted, homes, strict=True)]),
        Scenario("third_party", OPT_IN, "resolution+battery",
                 [resampled(v, h, b) for v, h, b in zip(opted, homes, battery, strict=True)]),
        Scenario("raw", "default", "battery",
                 [raw_view(h, b) for h, b in zip(homes, battery, strict=True)]),
    ]  # fmt: skip
    # Hourly and monthly series, which no role gets by default: measured offline so that
    # the portal can tell a household what a consent at those resolutions would reveal.
    for resolution in ("1h", "1mo"):
        template = View(resolution, pd.Series([0.0]))
        views_at = [resampled(template, h, h.power_w) for h in homes]
        out.append(Scenario("raw", "default", f"aggregation:{resolution}", views_at))
    return out


def run_lab(*, households: int = 12, days: int = 14, seed: int = 1) -> list[dict[str, Any]]:
    homes = simulate(count=households, days=days, seed=seed)
    rows = []
    for scenario in scenarios(homes, seed):
        for attack in ATTACKS:
            rows.append(
                {
                    "role": scenario.role,
                    "consent": scenario.consent,
                    "attack": attack,
                    **run_attack(attack, homes, scenario.views),
                    "defence": scenario.defence,
                    "resolution_seen": scenario.resolution_seen,
                }
            )
    return rows


def save(rows: list[dict[str, Any]], path: Path, **meta: Any) -> None:
    path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")


def load(path: Path | None = None) -> list[dict[str, Any]]:
    """The saved results, or the shipped ones; [] if neither can be read."""
    for candidate in (path or results_path(), SHIPPED_RESULTS):
        try:
            return list(json.loads(candidate.read_text())["rows"])
        except (OSError, ValueError, KeyError):
            continue
    return []
