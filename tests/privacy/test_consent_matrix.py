"""Role x consent x endpoint: no endpoint returns anything finer than the household granted.

Each consumption endpoint (API series at every resolution, API energy per period, the
portal's energy, forecast and live pages) is asked by every role under several consent
settings; the answer is 200 exactly when the endpoint's resolution is no finer than the
finest the role may read, 403 when the role is a recipient asking too finely, and 404
when the household is not in the role's scope at all.
"""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest
from django.urls import reverse

from apps.privacy import consent
from apps.privacy.consent import finer
from apps.privacy.models import Resolution
from tests.conftest import ROLES, World, mfa_login

pytestmark = pytest.mark.django_db

STAFF = {"platform_admin", "telco_operator", "dso_staff", "installer"}
START, END = "2026-03-02", "2026-03-03"

# name → the consents the household gave (recipient, purpose, finest resolution).
SETTINGS: dict[str, list[tuple[str, str, str]]] = {
    "default": [],
    "dso_15m": [("dso", "grid_operation", "15m")],
    "dso_1h_research_only": [("dso", "research", "1h")],
    "third_party_1h": [("third_party", "energy_services", "1h")],
    "third_party_raw": [("third_party", "energy_services", "raw")],
}

# What the role may read at the finest, per setting (None: in scope, nothing; "404": out).
FINEST: dict[str, dict[str, str | None]] = {
    "household_owner": dict.fromkeys(SETTINGS, "raw"),
    "household_member": dict.fromkeys(SETTINGS, "raw"),
    "dso_staff": {
        "default": "1d", "dso_15m": "15m", "dso_1h_research_only": "1d",
        "third_party_1h": "1d", "third_party_raw": "1d",
    },
    "third_party": {
        "default": "404", "dso_15m": "404", "dso_1h_research_only": "404",
        "third_party_1h": "1h", "third_party_raw": "raw",
    },
    "platform_admin": dict.fromkeys(SETTINGS, "404"),
    "telco_operator": dict.fromkeys(SETTINGS, "404"),
    "installer": dict.fromkeys(SETTINGS, "404"),
}  # fmt: skip


def api_series(resolution: str) -> Any:
    def ask(client: Any, household: Any) -> Any:
        url = reverse("api-v1:household-consumption", kwargs={"household_id": household.pk})
        span = {"start": START, "end": END}
        if resolution in ("1d", "1mo"):
            span["end"] = "2026-03-09"
        return client.get(url, {"resolution": resolution, **span})

    return ask


def api_energy(period: str) -> Any:
    def ask(client: Any, household: Any) -> Any:
        url = reverse("api-v1:household-energy", kwargs={"household_id": household.pk})
        return client.get(url, {"period": period, "date": START})

    return ask


def page(name: str, **query: str) -> Any:
    def ask(client: Any, household: Any) -> Any:
        return client.get(reverse(f"portal:{name}", kwargs={"household_id": household.pk}), query)

    return ask


# endpoint → (how to ask it, the resolution it answers at)
ENDPOINTS: dict[str, tuple[Any, str]] = {
    **{f"api series {r}": (api_series(r), r) for r in ("raw", "15m", "30m", "1h", "1d", "1mo")},
    "api energy day": (api_energy("day"), "1h"),
    "api energy week": (api_energy("week"), "1d"),
    "api energy year": (api_energy("year"), "1mo"),
    "page energy day": (page("energy", period="day", date=START), "1h"),
    "page energy month": (page("energy", period="month", date=START), "1d"),
    "page forecast": (page("forecast", date=START), "15m"),
    "page live": (page("live"), "raw"),
}


def expected_status(role: str, setting: str, resolution: str) -> int:
    finest = FINEST[role][setting]
    if finest == "404":
        return 404
    if finest is None or finer(resolution, finest):
        return 403
    return 200


def apply(world: World, setting: str) -> None:
    for recipient, purpose, resolution in SETTINGS[setting]:
        third = world.users["third_party"] if recipient == "third_party" else None
        consent.consent_set(
            household=world.household, recipient_kind=recipient, purpose=purpose,
            resolution=resolution, granted=True, by=world.users["household_owner"],
            third_party=third,
        )  # fmt: skip


def signed_in(world: World, role: str) -> Any:
    client = world.client(role)
    if role in STAFF:
        return mfa_login(client, world.users[role])
    client.force_login(world.users[role])
    return client


def spacing_ok(points: list[dict[str, Any]], finest: str) -> bool:
    """No two points closer than the finest resolution granted (raw: any)."""
    if finest == "raw" or len(points) < 2:
        return True
    least = {"15m": 15, "30m": 30, "1h": 60, "1d": 23 * 60, "1mo": 28 * 24 * 60}[finest]
    starts = [datetime.fromisoformat(p["start"]) for p in points]
    gaps = [(b - a).total_seconds() / 60 for a, b in pairwise(starts)]
    return min(gaps) >= least


@pytest.mark.parametrize("setting", list(SETTINGS))
@pytest.mark.parametrize("role", ROLES)
def test_no_endpoint_answers_finer_than_granted(data: World, role: str, setting: str) -> None:
    apply(data, setting)
    client = signed_in(data, role)
    wrong = []
    for name, (ask, resolution) in ENDPOINTS.items():
        response = ask(client, data.household)
        want = expected_status(role, setting, resolution)
        if response.status_code != want:
            wrong.append((name, response.status_code, want))
            continue
        if want == 200 and name.startswith("api series"):
            finest = FINEST[role][setting] or "raw"
            if not spacing_ok(response.json()["points"], finest):
                wrong.append((name, "points finer than granted", finest))
    assert not wrong, (role, setting, wrong)


def test_the_matrix_covers_every_resolution() -> None:
    assert {r for _, r in ENDPOINTS.values()} == {r.value for r in Resolution}
