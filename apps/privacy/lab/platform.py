"""The lab's sandbox on the real platform: a tenant, its people, the simulated homes' meter
readings ingested and rolled up by the platform's own services, and each role's reads
through the real /api/v1 consumption endpoint.

Everything is written inside the caller's transaction (the command rolls it back), so the
lab leaves nothing behind. Readings go in as one signed-batch equivalent per home through
`telemetry_ingest` (the same validation and writing as a box's upload) with a meter frame
at every quarter boundary, which is what the rollups need; the rollups are then run
directly, as the on-commit task would.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from apps.accounts.mfa import mfa_required_for
from apps.accounts.models import User
from apps.core.permissions import Role
from apps.energy.api.v1.consumption import MAX_DAYS
from apps.energy.services import energy_rollup_household
from apps.fleet.models import Gateway, MeterPairing, PairingStatus
from apps.households import services as household_services
from apps.households.models import Household
from apps.privacy.lab.households import Household as SimulatedHome
from apps.telemetry.services import telemetry_ingest
from apps.tenants.models import InstallerCompany, MeterProtocol, Tenant, TenantKind
from gateway_agent.protocol import MeterReading, TelemetryBatch

ROLE_OF = {  # the lab's role names, as in the report, and the platform's roles
    "dso": Role.DSO_STAFF,
    "telco_operator": Role.TELCO_OPERATOR,
    "installer": Role.INSTALLER,
    "third_party": Role.THIRD_PARTY,
}
# Asked finest first. Not raw: the lab's boxes send one meter frame per quarter (raw would
# repeat the quarters), and the raw baseline reads the simulated minutes directly.
FINEST_FIRST = ("15m", "30m", "1h", "1d", "1mo")


@dataclass
class View:
    """What one reader got for one home: mean power (W) per bar, or nothing."""

    resolution: str | None  # "1m" (raw), "15m", "1h", "1d", "1mo"; None: nothing
    series: pd.Series | None  # indexed by the bars' UTC starts
    status: str = "ok"  # or "403" / "404": why nothing

    @classmethod
    def nothing(cls, status: str) -> View:
        return cls(None, None, status)


@dataclass
class Sandbox:
    tenant: Tenant
    users: dict[str, User]
    owners: list[User]
    households: list[Household]


def _user(username: str, role: str, tenant: Tenant, **extra: Any) -> User:
    user = User(username=username, role=role, tenant=tenant, email=f"{username}@lab.invalid",
                **extra)  # fmt: skip
    user.set_unusable_password()
    user.save()
    return user


def build(homes: list[SimulatedHome], tag: str | None = None) -> Sandbox:
    """A tenant with one household per simulated home, and a user of every role."""
    tag = tag or secrets.token_hex(4)
    operator = Tenant.objects.create(slug=f"lab-telco-{tag}", name="Lab telco",
                                     kind=TenantKind.OPERATOR, country="BE")  # fmt: skip
    tenant = Tenant.objects.create(
        slug=f"lab-{tag}", name="Privacy lab", kind=TenantKind.ENERGY_PARTNER, country="BE",
        currency="EUR", timezone=str(homes[0].zone), language="en", dso_name="Lab DSO",
        meter_protocol=MeterProtocol.P1_EMUCS,
    )  # fmt: skip
    company = InstallerCompany.objects.create(tenant=tenant, name="Lab installers")
    users = {
        "dso": _user(f"lab-dso-{tag}", Role.DSO_STAFF, tenant),
        "telco_operator": _user(f"lab-operator-{tag}", Role.TELCO_OPERATOR, operator),
        "installer": _user(
            f"lab-installer-{tag}", Role.INSTALLER, tenant, installer_company=company
        ),
        "third_party": _user(f"lab-thirdparty-{tag}", Role.THIRD_PARTY, tenant),
    }
    owners, households = [], []
    for home in homes:
        household = _household(tenant, home, tag)
        owner = _user(f"lab-owner-{tag}-{home.index}", Role.HOUSEHOLD_OWNER, tenant)
        household_services.household_add_owner(household=household, user=owner)
        household_services.installer_assign(
            household=household, installer=users["installer"], assigned_by=users["dso"]
        )
        owners.append(owner)
        households.append(household)
    return Sandbox(tenant, users, owners, households)


def _household(tenant: Tenant, home: SimulatedHome, tag: str) -> Household:
    household = Household.objects.create(
        tenant=tenant, name=f"Lab home {home.index}", address="1 Labstraat", postcode="1000",
        city="Brussels", timezone=str(home.zone), meter_point_id=f"LAB{tag}{home.index:07d}",
        contracted_power_kva=9.2,
    )  # fmt: skip
    gateway = Gateway.objects.create(tenant=tenant, household=household,
                                     serial=f"HEB-LAB-{tag}-{home.index}",
                                     firmware_version="lab")  # fmt: skip
    MeterPairing.objects.create(
        gateway=gateway, household=household, meter_point_id=household.meter_point_id,
        meter_id=_meter_id(home.index), status=PairingStatus.APPROVED,
        decided_at=timezone.now(),
    )  # fmt: skip
    return household


def _meter_id(index: int) -> str:
    return f"1SAGLAB{index:07d}"


def ingest(household: Household, home: SimulatedHome, power_w: np.ndarray) -> None:
    """The home's meter frames at every quarter boundary, ingested and rolled up."""
    gateway = household.gateways.get()
    quarter_wh = power_w.reshape(-1, 15).sum(axis=1) / 60
    registers = np.concatenate([[0.0], np.cumsum(quarter_wh)]).round().astype(int)
    frames = [
        MeterReading(
            timestamp=home.start + timedelta(minutes=15 * n),
            meter_id=_meter_id(home.index),
            import_wh={"1": int(wh)},
            import_w=int(quarter_wh[min(n, quarter_wh.size - 1)] * 4),
        )
        for n, wh in enumerate(registers)
    ]
    batch = TelemetryBatch(batch_id=uuid.uuid4(), serial=gateway.serial, meter=frames)
    telemetry_ingest(gateway=gateway, batch=batch, now=timezone.now())
    end = home.start + timedelta(minutes=power_w.size)
    energy_rollup_household(household=household, start=home.start, end=end)


def client_for(user: User) -> APIClient:
    """A logged-in API session; staff have also passed their TOTP check, as a real staff
    reader must (the platform asks staff for MFA before any read)."""
    client = APIClient()
    client.force_login(user)
    if mfa_required_for(user):
        device = TOTPDevice.objects.create(user=user, name="lab", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def _chunks(days: list[date], resolution: str) -> list[tuple[date, date]]:
    """[start, end) local-day spans covering the window, each within the API's bound."""
    step = MAX_DAYS[resolution]
    return [
        (days[n], min(days[n] + timedelta(days=step), days[-1] + timedelta(days=1)))
        for n in range(0, len(days), step)
    ]


def fetch(client: APIClient, household: Household, home: SimulatedHome) -> View:
    """The finest consumption the API gives this reader; 403 falls back to coarser."""
    url = reverse("api-v1:household-consumption", kwargs={"household_id": household.pk})
    for resolution in FINEST_FIRST:
        points: list[dict[str, Any]] = []
        refused = None
        for first, end in _chunks(home.days, resolution):
            query = {"resolution": resolution, "start": first.isoformat(), "end": end.isoformat()}
            response = client.get(url, query, secure=True, HTTP_ACCEPT="application/json")
            if response.status_code in (403, 404):
                refused = str(response.status_code)
                break
            assert response.status_code == 200, response.content[:300]
            points += response.json()["points"]
        if refused == "404":
            return View.nothing("404")
        if refused is None:
            return View(resolution, _series(points, home))
    return View.nothing("403")


def _series(points: list[dict[str, Any]], home: SimulatedHome) -> pd.Series:
    """Mean power (W) per point, for the points that overlap the simulated window."""
    end = home.start + timedelta(minutes=home.power_w.size)
    starts, values = [], []
    for point in points:
        start, stop = datetime.fromisoformat(point["start"]), datetime.fromisoformat(point["end"])
        if stop <= home.start or start >= end or point["import_wh"] is None:
            continue
        hours = (stop - start).total_seconds() / 3600
        starts.append(pd.Timestamp(start).tz_convert("UTC"))
        values.append(float(point["import_wh"]) / hours)
    return pd.Series(values, index=pd.DatetimeIndex(starts), dtype=float).sort_index()


# Consent settings: what the household decided before the readers fetch. -------------------

ConsentSetting = Callable[[Sandbox], None]


def _no_decision(sandbox: Sandbox) -> None:
    """The rules in force: the household decided nothing."""


def _grant(recipient: str, purpose: str, resolution: str) -> ConsentSetting:
    def apply(sandbox: Sandbox) -> None:
        from apps.privacy.consent import consent_set  # the lead's consent module

        third_party = sandbox.users["third_party"] if recipient == "third_party" else None
        for household, owner in zip(sandbox.households, sandbox.owners, strict=True):
            consent_set(household=household, recipient_kind=recipient, purpose=purpose,
                        resolution=resolution, granted=True, by=owner,
                        third_party=third_party)  # fmt: skip

    return apply


CONSENTS: dict[str, ConsentSetting] = {
    "default": _no_decision,
    "15m_energy_services": _grant("third_party", "energy_services", "15m"),
    "15m_grid_operation": _grant("dso", "grid_operation", "15m"),
}
# Which role each opt-in is for (the default applies to every role).
CONSENT_ROLE = {"15m_energy_services": "third_party", "15m_grid_operation": "dso"}
