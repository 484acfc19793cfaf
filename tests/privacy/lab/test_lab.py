"""The privacy attack lab: every role's row, the baseline, consent and nothing left behind."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.energy.models import HouseholdEnergy
from apps.households.models import Household
from apps.privacy.lab.attacks import ATTACKS, run_attack
from apps.privacy.lab.households import simulate
from apps.privacy.lab.platform import View
from apps.privacy.lab.runner import raw_view
from apps.privacy.models import AccessLogEntry, ConsentDecision
from apps.telemetry.models import MeterReading
from apps.tenants.models import Tenant

ROLES = {"raw", "dso", "telco_operator", "installer", "third_party"}
SMALL = ["--households", "8", "--days", "10", "--seed", "3"]
REALDATA = Path("/work/shared/realdata/load")


def counts() -> dict[str, int]:
    models = (Tenant, User, Household, MeterReading, HouseholdEnergy, ConsentDecision,
              AccessLogEntry)  # fmt: skip
    return {m.__name__: m.objects.count() for m in models}


@pytest.fixture(scope="module")
def lab_rows(django_db_setup: Any, django_db_blocker: Any) -> dict[str, Any]:
    """One small run for the module (it takes a while); the counts before and after."""
    with django_db_blocker.unblock():
        before = counts()
        out = io.StringIO()
        call_command("privacy_lab", "--json", *SMALL, stdout=out)
        after = counts()
    return {"rows": json.loads(out.getvalue()), "before": before, "after": after}


def row(rows: list[dict[str, Any]], role: str, consent: str, attack: str,
        defence: str | None = None) -> dict[str, Any]:  # fmt: skip
    wanted = defence or ("none" if role == "raw" else "resolution")
    (found,) = [
        r for r in rows
        if (r["role"], r["consent"], r["attack"], r["defence"]) == (role, consent, attack, wanted)
    ]  # fmt: skip
    return found


def test_json_has_a_row_for_every_role_and_attack(lab_rows: dict[str, Any]) -> None:
    rows = lab_rows["rows"]
    assert {(r["role"], r["attack"]) for r in rows} >= {(a, b) for a in ROLES for b in ATTACKS}
    for r in rows:
        assert {"role", "consent", "attack", "balanced_accuracy", "mcc", "auc"} <= r.keys()
        assert r["role"] in ROLES and r["attack"] in ATTACKS
        assert 0 <= r["balanced_accuracy"] <= 1 and -1 <= r["mcc"] <= 1


def test_raw_baseline_beats_chance_on_occupancy(lab_rows: dict[str, Any]) -> None:
    assert row(lab_rows["rows"], "raw", "default", "occupancy")["mcc"] > 0.3


@pytest.mark.parametrize("role", ["dso", "telco_operator", "installer", "third_party"])
def test_default_consent_gives_the_occupancy_attacker_no_better_than_chance(
    lab_rows: dict[str, Any], role: str
) -> None:
    found = row(lab_rows["rows"], role, "default", "occupancy")
    assert found["mcc"] <= 0.1, found
    expected = "1d" if role == "dso" else "nothing"
    assert found["resolution_seen"] == expected


def test_roles_without_data_score_exactly_chance(lab_rows: dict[str, Any]) -> None:
    for attack in ATTACKS:
        found = row(lab_rows["rows"], "third_party", "default", attack)
        assert (found["balanced_accuracy"], found["mcc"], found["auc"]) == (0.5, 0.0, 0.5)


def test_15_minute_consent_lets_the_third_party_see_occupancy(lab_rows: dict[str, Any]) -> None:
    found = row(lab_rows["rows"], "third_party", "15m_energy_services", "occupancy")
    assert found["resolution_seen"] == "15m"
    default = row(lab_rows["rows"], "third_party", "default", "occupancy")
    assert found["mcc"] > 0.15 and found["auc"] > 0.65  # clearly better than chance
    assert found["mcc"] > default["mcc"] + 0.15


def test_daily_data_reveals_multi_day_absences(lab_rows: dict[str, Any]) -> None:
    """A finding, not a bug: the DSO's daily reads show when a home is away for days."""
    assert row(lab_rows["rows"], "dso", "default", "absence")["auc"] > 0.8


def test_the_run_leaves_nothing_behind(lab_rows: dict[str, Any]) -> None:
    assert lab_rows["after"] == lab_rows["before"]


def test_table_output_names_every_role(db: Any) -> None:
    out = io.StringIO()
    call_command("privacy_lab", "--households", "4", "--days", "5", stdout=out)
    text = out.getvalue()
    assert all(role in text for role in ROLES) and "Chance" in text


def test_an_attacker_with_no_data_scores_chance_without_crashing() -> None:
    homes = simulate(count=4, days=5, seed=2)
    views = [View.nothing("404") for _ in homes]
    for attack in ATTACKS:
        result = run_attack(attack, homes, views)
        assert (result["balanced_accuracy"], result["mcc"], result["auc"]) == (0.5, 0.0, 0.5)


def test_occupancy_detectors_on_a_real_home() -> None:
    """ECO household 2 (June 2012, 15-min meter power, with occupancy labels): the
    NIOM-style detector, fitted on nothing, ranks occupied slots above empty ones."""
    if not REALDATA.exists():
        pytest.skip(f"real data not available at {REALDATA} (/work/shared is absent)")
    from apps.privacy.lab.features import slot_features

    power = pd.read_csv(next(REALDATA.glob("eco_household2_15min_power_*.csv")), index_col=0)
    occupancy = pd.read_csv(next(REALDATA.glob("eco_15min_occupancy_*.csv")), index_col=0)
    power.index = (
        pd.to_datetime(power.index, utc=True).tz_convert("Europe/Zurich").tz_localize(None)
    )
    occupancy.index = pd.to_datetime(occupancy.index)
    meter = power.filter(like="sitemeter").sum(axis=1)
    joined = pd.concat([meter.rename("w"), occupancy["occupancy"]], axis=1, join="inner").dropna()
    minutes = np.repeat(joined["w"].to_numpy(), 15)
    frame = slot_features(minutes, len(joined))
    score = (frame["spread_max_2"] + frame["level_mean_2"]).to_numpy()
    daytime = (joined.index.hour >= 7) & (joined.index.hour < 22)
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(joined["occupancy"].to_numpy()[daytime] > 0.5, score[daytime])
    assert auc > 0.6, auc


def test_battery_view_keeps_the_energy() -> None:
    from apps.privacy.lab.households import battery_levelled

    (home,) = simulate(count=1, days=3, seed=4)
    seen = battery_levelled(home.power_w)
    assert abs(seen.sum() - home.power_w.sum()) / home.power_w.sum() < 0.1
    assert seen.std() < home.power_w.std()
    assert raw_view(home, seen).resolution == "1m"
