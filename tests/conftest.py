"""The one shared test world, and the rule for tests that need real services."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.core.permissions import Role
from apps.households import services
from apps.households.models import Household
from apps.tenants.models import Tenant
from tests.factories import (
    DeviceFactory,
    GatewayFactory,
    HouseholdFactory,
    InstallerCompanyFactory,
    TenantFactory,
    UserFactory,
)

PASSWORD = "correct horse battery"
IN_CI = bool(os.environ.get("CI"))


@pytest.fixture(scope="session", autouse=True)
def _close_stray_test_db_sessions(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """Servers the tests start in threads (the e2e ASGI server) keep a database connection
    per worker thread; on PostgreSQL those sessions would keep the test database from being
    dropped at the end. Ends them before the test database is torn down."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def mfa_login(client: Any, user: Any) -> Any:
    """Sign `user` in as the password and a TOTP code would: a confirmed TOTP device and a
    session verified just now (staff need it for every page, households to control devices)."""
    client.force_login(user)
    return mfa_verify_session(client, user)


def mfa_verify_session(client: Any, user: Any) -> Any:
    """Mark the signed-in `client`'s session as having given a good TOTP code just now."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from apps.accounts import mfa

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[mfa.VERIFIED_AT_KEY] = time.time()
    session[mfa.HAS_DEVICE_KEY] = True
    session.save()
    return client


def service_unavailable(reason: str) -> None:
    """A missing service fails the test in CI and skips it on a developer's bare machine."""
    if IN_CI:
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def postgres(db: Any) -> None:
    if connection.vendor != "postgresql":
        service_unavailable("DATABASE_URL does not point at PostgreSQL")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        service_unavailable("REDIS_URL is not set")
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), 2):
            pass
    except OSError as error:
        service_unavailable(f"Redis at {url} cannot be reached: {error}")
    return url


@dataclass
class World:
    """Two tenants; in the home tenant our household and a neighbour's; one abroad."""

    home_tenant: Tenant
    other_tenant: Tenant
    operator_tenant: Tenant
    household: Household  # "ours"
    neighbour: Household  # same tenant, another household
    abroad: Household  # another tenant
    users: dict[str, Any] = field(default_factory=dict)
    gateways: dict[str, Any] = field(default_factory=dict)
    devices: dict[str, Any] = field(default_factory=dict)

    def client(self, role: str | None) -> APIClient:
        client = APIClient()
        if role is not None:
            client.force_authenticate(self.users[role])
        return client

    def foreign_ids(self) -> list[str]:
        """Every id that must never appear in a response about our household."""
        ids = []
        for household in (self.neighbour, self.abroad):
            ids.append(str(household.pk))
            ids.append(household.meter_point_id)
        for key in ("neighbour", "abroad"):
            ids += [
                str(self.gateways[key].pk),
                self.gateways[key].serial,
                str(self.devices[key].pk),
            ]
        return ids


ROLES = (
    "platform_admin",
    "telco_operator",
    "dso_staff",
    "installer",
    "household_owner",
    "household_member",
    "third_party",
)


@pytest.fixture
def world(db: Any) -> World:
    operator = TenantFactory(slug="telco", name="Telecom Italia", country="IT", kind="operator")
    home = TenantFactory(slug="lab", name="LAB", country="BE")
    other = TenantFactory(
        slug="gdf", name="GDF Suez", country="FR", timezone="Europe/Paris", language="fr"
    )
    household = HouseholdFactory(tenant=home, name="Our home")
    neighbour = HouseholdFactory(tenant=home, name="Neighbour")
    abroad = HouseholdFactory(tenant=other, name="Abroad")
    w = World(home, other, operator, household, neighbour, abroad)
    for key, h in (("ours", household), ("neighbour", neighbour), ("abroad", abroad)):
        w.gateways[key] = GatewayFactory(household=h)
        w.devices[key] = DeviceFactory(household=h, gateway=w.gateways[key])

    company = InstallerCompanyFactory(tenant=home)
    u = w.users
    u["platform_admin"] = UserFactory(
        username="admin", role=Role.PLATFORM_ADMIN, tenant=operator, is_staff=True
    )
    u["telco_operator"] = UserFactory(
        username="operator", role=Role.TELCO_OPERATOR, tenant=operator
    )
    u["dso_staff"] = UserFactory(username="dso", role=Role.DSO_STAFF, tenant=home)
    u["installer"] = UserFactory(
        username="installer", role=Role.INSTALLER, tenant=home, installer_company=company
    )
    u["household_owner"] = UserFactory(username="owner", role=Role.HOUSEHOLD_OWNER, tenant=home)
    u["household_member"] = UserFactory(username="member", role=Role.HOUSEHOLD_MEMBER, tenant=home)
    u["third_party"] = UserFactory(username="thirdparty", role=Role.THIRD_PARTY, tenant=home)
    # Owners of the other households, so that they are as real as ours.
    u["neighbour_owner"] = UserFactory(username="neighbour", role=Role.HOUSEHOLD_OWNER, tenant=home)
    u["abroad_owner"] = UserFactory(username="abroad", role=Role.HOUSEHOLD_OWNER, tenant=other)

    services.household_add_owner(household=household, user=u["household_owner"])
    services.member_add(household=household, user=u["household_member"])
    services.household_add_owner(household=neighbour, user=u["neighbour_owner"])
    services.household_add_owner(household=abroad, user=u["abroad_owner"])
    services.installer_assign(
        household=household, installer=u["installer"], assigned_by=u["dso_staff"]
    )
    return w
