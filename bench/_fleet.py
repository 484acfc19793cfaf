"""A bench fleet: a Belgian tenant, and households whose box is claimed, keyed and paired
through the services, as in the field. Shared by the ingest and live-latency benchmarks."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

CLAIM_CODE = "BENCHCODE123"
METER_ID = "1SAG1100042181"


@dataclass
class PairedBox:
    household: Any
    gateway: Any
    serial: str
    key_id: str
    secret: bytes  # the raw HMAC key


def bench_tenant() -> tuple[Any, Any]:
    """The tenant and a platform admin who claims, pairs and approves."""
    from apps.accounts.models import User
    from apps.tenants.models import Tenant

    tenant = Tenant.objects.create(
        slug="bench", name="Bench", country="BE", currency="EUR", timezone="Europe/Brussels",
        language="nl", dso_name="Fluvius", meter_protocol="p1_emucs",
    )  # fmt: skip
    admin = User.objects.create(username="bench-admin", role="platform_admin")
    return tenant, admin


def bench_household(tenant: Any, n: int) -> Any:
    from apps.core.meter_points import with_check_digit
    from apps.households.models import Household

    return Household.objects.create(
        tenant=tenant, name=f"H{n}", address="1 Kerkstraat", postcode="9000", city="Gent",
        timezone="Europe/Brussels", meter_point_id=with_check_digit("BE", f"5414{n:013d}"),
        contracted_power_kva=Decimal("9.2"),
    )  # fmt: skip


def paired_box(*, tenant: Any, admin: Any, household: Any, serial: str) -> PairedBox:
    """Registered, claimed, provisioned and paired with METER_ID."""
    from apps.fleet import services

    services.gateway_register(tenant=tenant, serial=serial, claim_code=CLAIM_CODE)
    gateway = services.gateway_claim(
        user=admin, household=household, serial=serial, claim_code=CLAIM_CODE
    )
    issued, _ = services.gateway_provision(serial=serial, claim_code=CLAIM_CODE)
    pairing = services.pairing_request(user=admin, gateway=gateway)
    services.pairing_approve(user=admin, pairing=pairing, meter_id=METER_ID)
    return PairedBox(
        household, gateway, serial, issued.credential.key_id,
        base64.urlsafe_b64decode(issued.secret),
    )  # fmt: skip
