"""The demo world: deterministic, complete, and safe to seed again."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.core.permissions import Action, Role
from apps.devices.models import Device, DeviceKind
from apps.fleet.models import Gateway
from apps.households.models import Household
from apps.tenants.models import Tenant

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo(db: None, capsys: pytest.CaptureFixture[str]) -> str:
    call_command("seed_demo", seed=1)
    return capsys.readouterr().out


def test_the_demo_world_has_every_tenant_role_and_a_realistic_fleet(demo: str) -> None:
    assert set(Tenant.objects.values_list("name", flat=True)) == {
        "Telecom Italia", "UPL", "GDF Suez", "LAB",
    }  # fmt: skip
    for tenant in Tenant.objects.exclude(slug="telecom-italia"):
        households = Household.objects.filter(tenant=tenant)
        assert households.count() == 20
        for household in households:
            household.full_clean()  # meter point ids valid for the country
        assert tenant.installer_companies.count() == 1
        kinds = set(Device.objects.filter(household__tenant=tenant).values_list("kind", flat=True))
        assert {DeviceKind.APPLIANCE, DeviceKind.PV_INVERTER} <= kinds
    assert Device.objects.filter(kind=DeviceKind.EV_CHARGER).exists()
    assert Device.objects.filter(kind=DeviceKind.HEAT_PUMP).exists()
    assert Gateway.objects.filter(household__isnull=True).count() == 9
    for role in Role.values:
        assert User.objects.filter(role=role).exists(), role
    for username in (
        "admin",
        "operator",
        "dso_be",
        "installer_fr",
        "owner_uk",
        "member_be",
        "thirdparty",
    ):
        assert username in demo


def test_demo_logins_work_and_see_their_scope(demo: str) -> None:
    owner = User.objects.get(username="owner_be")
    assert Household.objects.restrict(owner, Action.VIEW).count() == 1
    assert (
        Household.objects.restrict(User.objects.get(username="dso_fr"), Action.VIEW).count() == 20
    )
    assert (
        Household.objects.restrict(User.objects.get(username="installer_uk"), Action.VIEW).count()
        == 3
    )


def test_seeding_again_changes_nothing(demo: str) -> None:
    before = sorted(Household.objects.values_list("pk", "meter_point_id"))
    devices = Device.objects.count()
    call_command("seed_demo", seed=1)
    assert sorted(Household.objects.values_list("pk", "meter_point_id")) == before
    assert Device.objects.count() == devices


def ids_after_seeding(tmp_path: Path, name: str) -> str:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / name}", "DEMO_PASSWORD": "x"}
    env.pop("REDIS_URL", None)
    for args in (["migrate", "-v0"], ["seed_demo", "--seed", "7"]):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=300)  # fmt: skip
    dump = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c",
         "from apps.households.models import Household as H;"
         "print(sorted(H.objects.values_list('pk', 'meter_point_id', 'name')))"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return dump.stdout


def test_the_same_seed_builds_the_same_world_on_a_fresh_database(tmp_path: Path) -> None:
    assert ids_after_seeding(tmp_path, "a.sqlite3") == ids_after_seeding(tmp_path, "b.sqlite3")


def test_spare_boxes_can_be_claimed_with_the_printed_code_and_most_boxes_are_paired(
    demo: str,
) -> None:
    from apps.fleet import services
    from apps.fleet.models import MeterPairing

    line = next(line for line in demo.splitlines() if line.startswith("HEB-BE-S0000"))
    serial, code = line.split()[:2]
    installer = User.objects.get(username="installer_be")
    household = Household.objects.restrict(installer, Action.INSTALL).first()
    assert household is not None
    gateway = services.gateway_claim(
        user=installer, household=household, serial=serial, claim_code=code
    )
    assert gateway.household == household
    assert MeterPairing.objects.filter(status="approved").count() == 3 * 18
    assert MeterPairing.objects.filter(status="requested").count() == 3 * 2
