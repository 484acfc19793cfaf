"""GDPR rights: the household-data map, the export's contents and who may export.

`populate` gives every household of the shared world a row in every table linked to a
household; the erasure and retention tests (test_gdpr_*.py) reuse it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import Group, Permission
from django.test import AsyncRequestFactory
from django.urls import reverse
from django.utils import timezone

from apps.devices.models import DeviceKind
from apps.energy.models import DeviceEnergy, HouseholdEnergy
from apps.fleet import services as fleet_services
from apps.fleet.models import GatewayAlarm, GatewayCommand, MeterPairing
from apps.forecasting.models import Forecast, PvClearSkyIndex, PvSystem
from apps.households import services as household_services
from apps.households.models import Household, HouseholdGroupPermission
from apps.insights.models import ReportSubscription, SentReport, TipCheck, TipState
from apps.live.models import Notification, OverloadEpisode
from apps.privacy import gdpr
from apps.privacy.export import JSON_NAME, household_export, zip_download
from apps.privacy.models import (
    AccessLogEntry,
    ConsentDecision,
    ConsentEvent,
    DataRightsKind,
    DataRightsRecord,
)
from apps.scheduling.models import (
    ApplianceProgram,
    BatteryRule,
    DailyPlan,
    EvChargingRule,
    PlanRequest,
    SchedulingPreferences,
    WaterHeaterRule,
)
from apps.tariffs.models import HouseholdTariff, Tariff
from apps.telemetry.models import DeviceReading, GuardAction, IngestedBatch, MeterReading
from tests.conftest import ROLES, World
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)
SECRET_WORDS = ("claim_code_hash", "token_hash", "secret_encrypted", "password", "pbkdf2", "md5$")


def _telemetry(household: Household, gateway: Any, device: Any, at: dt.datetime) -> None:
    batch = uuid.uuid4()
    IngestedBatch.objects.create(
        batch_id=batch, gateway=gateway, received_at=at, meter_rows=1, device_rows=1
    )
    MeterReading.objects.create(
        household=household, gateway=gateway, batch_id=batch, time=at, meter_id="M1",
        import_wh={"1": 1000}, import_w=400, voltage_v=[230.1],
    )  # fmt: skip
    DeviceReading.objects.create(
        household=household, device=device, batch_id=batch, seq=1, time=at, power_w=120
    )
    GuardAction.objects.create(
        household=household, gateway=gateway, device=device, batch_id=batch, time=at,
        action="shed", load_va=10_000, limit_va=9_200,
    )  # fmt: skip


def _fleet(household: Household, gateway: Any, device: Any) -> GatewayCommand:
    fleet_services.credential_issue(gateway=gateway)
    MeterPairing.objects.create(
        gateway=gateway, household=household, meter_point_id=household.meter_point_id,
        meter_id="M1", status="approved",
    )  # fmt: skip
    GatewayAlarm.objects.create(
        gateway=gateway, household=household, kind="wrong_meter", message=f"{household.name}"
    )
    return GatewayCommand.objects.create(
        gateway=gateway, household=household, device=device, kind="switch_on"
    )


def _energy_and_forecasts(household: Household, device: Any, at: dt.datetime) -> None:
    HouseholdEnergy.objects.create(household=household, resolution="15m", start=at, import_wh=99)
    DeviceEnergy.objects.create(
        device=device, household=household, resolution="15m", start=at, energy_wh=50
    )
    tariff, _ = Tariff.objects.get_or_create(
        tenant=household.tenant, code="gdpr-flat", defaults={"name": "Flat", "kind": "flat"}
    )
    HouseholdTariff.objects.create(
        household=household, tariff=tariff, valid_from=dt.date(2025, 1, 1)
    )
    PvSystem.objects.create(
        household=household, latitude=51.05, longitude=3.72, kwp=4, inverter_ac_kw=3.6
    )
    PvClearSkyIndex.objects.create(household=household, month=6, values=[1.0] * 24, days=3)
    Forecast.objects.create(
        household=household, kind="pv", horizon="day_ahead", day=at.date(), issued_at=at,
        start=at, values_wh=[10, 20],
    )  # fmt: skip


def _plans(household: Household, device: Any, command: GatewayCommand, at: dt.datetime) -> None:
    program = ApplianceProgram.objects.create(device=device, name="Eco", profile_w=[2000, 300])
    SchedulingPreferences.objects.create(household=household, quiet_start=dt.time(22))
    PlanRequest.objects.create(
        household=household, program=program, earliest_start=at, status="planned",
        done_by=at + dt.timedelta(hours=6), command=command,
    )  # fmt: skip
    ev = DeviceFactory(household=household, kind=DeviceKind.EV_CHARGER)
    heater = DeviceFactory(household=household, kind=DeviceKind.WATER_HEATER)
    battery = DeviceFactory(household=household, kind=DeviceKind.BATTERY)
    EvChargingRule.objects.create(
        household=household, device=ev, departure=dt.time(7), energy_kwh=Decimal(10)
    )
    WaterHeaterRule.objects.create(household=household, device=heater, energy_kwh=Decimal(5))
    BatteryRule.objects.create(household=household, device=battery, capacity_kwh=Decimal(10))
    plan = DailyPlan.objects.create(
        household=household, day=at.date(), device=ev, status="planned",
        horizon_start=at, horizon_end=at + dt.timedelta(hours=12),
    )  # fmt: skip
    plan.commands.add(command)


def _people_and_privacy(household: Household, owner: Any, at: dt.datetime) -> None:
    ReportSubscription.objects.create(household=household, user=owner, daily=True)
    SentReport.objects.create(
        household=household, user=owner, period="day", start=at.date(), language="en"
    )
    TipState.objects.create(
        household=household, kind="standby", title="Standby", first_seen_at=at, updated_at=at
    )
    TipCheck.objects.create(household=household, checked_at=at)
    OverloadEpisode.objects.create(
        household=household, started_at=at, ended_at=at + dt.timedelta(minutes=2),
        level="warning", peak_va=9_000, limit_va=9_200,
    )  # fmt: skip
    Notification.objects.create(household=household, kind="overload", level="warning")
    decision = ConsentDecision.objects.create(
        household=household, recipient_kind="dso", purpose="grid_operation", resolution="15m",
        granted=True, decided_by=owner, decided_at=at,
    )  # fmt: skip
    ConsentEvent.objects.create(
        household=household, decision=decision, granted=True, changed_by=owner, at=at
    )
    AccessLogEntry.objects.create(
        household=household, reader=owner, reader_name=owner.username, role="household_owner",
        purpose="own_use", basis="own", consent=decision, resolution="15m", what="energy", at=at,
    )  # fmt: skip
    household_services.member_invite(
        household=household, invited_by=owner, email=f"friend-{household.pk}@example.invalid"
    )
    group, _ = Group.objects.get_or_create(name="gdpr-test")
    HouseholdGroupPermission.objects.create(
        group=group,
        permission=Permission.objects.get(codename="view_household"),
        content_object=household,
    )


def populate(world: World, at: dt.datetime = NOW) -> None:
    """A row in every household-linked table, for each of the world's three households."""
    owners = {"ours": "household_owner", "neighbour": "neighbour_owner", "abroad": "abroad_owner"}
    for key, household in (
        ("ours", world.household), ("neighbour", world.neighbour), ("abroad", world.abroad)
    ):  # fmt: skip
        gateway, device = world.gateways[key], world.devices[key]
        owner = world.users[owners[key]]
        _telemetry(household, gateway, device, at)
        command = _fleet(household, gateway, device)
        _energy_and_forecasts(household, device, at)
        _plans(household, device, command, at)
        _people_and_privacy(household, owner, at)


def row_counts(household: Household) -> dict[str, int]:
    return {link.label: link.rows_of(household.pk).count() for link in gdpr.household_links()}


def read_export(content: bytes) -> tuple[dict[str, Any], dict[str, list[list[str]]]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    document = json.loads(archive.read(JSON_NAME))
    tables = {}
    for name in archive.namelist():
        if name.endswith(".csv"):
            text = archive.read(name).decode()
            tables[name.removeprefix("csv/").removesuffix(".csv")] = list(
                csv.reader(io.StringIO(text))
            )
    return document, tables


def export_as(world: World, role: str, household: Household) -> Any:
    client = world.client(role)
    return client.get(reverse("api-v1:household-export", kwargs={"household_id": household.pk}))


def body(response: Any) -> bytes:
    """The zip as the test client's (WSGI) request gets it: the file, streamed."""
    return b"".join(response.streaming_content)


def test_under_asgi_the_zip_streams_from_an_async_iterator(world: World) -> None:
    """Under ASGI a synchronous iterator would be read whole into memory first."""
    request = AsyncRequestFactory().get("/")
    response = zip_download(
        household_export(user=world.users["household_owner"], household_id=world.household.pk),
        request,
    )

    async def collect() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    assert response.is_async
    assert zipfile.ZipFile(io.BytesIO(async_to_sync(collect)())).namelist()


# The map of the household's data ---------------------------------------------------------


def test_every_household_linked_model_is_exported_or_excluded_with_a_reason() -> None:
    """A new model with a path to a household is exported by default; this fails if the
    discovery stops finding it, or if an exclusion names a model that is not linked."""
    labels = {link.label for link in gdpr.household_links()}
    exported = {link.label for link in gdpr.exported_links()}
    assert labels == exported | set(gdpr.NEVER_EXPORTED_MODELS)
    assert set(gdpr.NEVER_EXPORTED_MODELS) <= labels
    assert all(reason.strip() for reason in gdpr.NEVER_EXPORTED_MODELS.values())
    # The known data of a household, reached directly or through a device or a plan.
    for label in (
        "households.Household", "households.Membership", "telemetry.MeterReading",
        "telemetry.DeviceReading", "energy.HouseholdEnergy", "forecasting.Forecast",
        "scheduling.ApplianceProgram", "scheduling.DailyPlan_commands", "insights.SentReport",
        "live.Notification", "privacy.ConsentEvent", "privacy.AccessLogEntry", "fleet.Gateway",
    ):  # fmt: skip
        assert label in exported, label


def test_a_reading_belongs_to_its_household_not_to_the_gateway_s_current_one() -> None:
    readings = next(link for link in gdpr.household_links() if link.model is MeterReading)
    assert "gateway__household" in readings.paths
    assert readings.own == ("household",)


def test_secret_columns_are_never_exported() -> None:
    for link in gdpr.household_links():
        for column in gdpr.exported_columns(link.model):
            assert not any(word in column for word in ("password", "secret", "hash", "token"))
    from apps.accounts.models import User

    assert "password" not in gdpr.exported_columns(User)
    assert "email" in gdpr.exported_columns(User)


def test_the_sample_world_fills_every_household_linked_table(world: World) -> None:
    """If this fails, a new model reaches households: add a row for it in `populate`, so
    that the export and erasure tests cover it."""
    populate(world)
    empty = [label for label, count in row_counts(world.household).items() if count == 0]
    assert not empty


# The export's contents ---------------------------------------------------------------------


def test_the_export_holds_every_table_in_json_and_csv_and_nothing_of_other_households(
    world: World,
) -> None:
    populate(world)
    response = export_as(world, "household_owner", world.household)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    content = body(response)
    document, csvs = read_export(content)

    assert document["schema"] == gdpr.EXPORT_SCHEMA
    assert document["schema_version"] == gdpr.EXPORT_SCHEMA_VERSION
    assert document["household_id"] == str(world.household.pk)
    tables = document["tables"]
    expected = {link.label for link in gdpr.exported_links()}
    assert expected | {"accounts.User", "privacy.DataRightsRecord"} == set(tables) == set(csvs)
    for label, count in row_counts(world.household).items():
        if label in expected:
            assert len(tables[label]["rows"]) == count > 0, label
            assert len(csvs[label]) == count + 1, label  # the header row
            assert csvs[label][0] == tables[label]["columns"]

    household = dict(zip(*_only_row(tables["households.Household"]), strict=True))
    assert household["name"] == "Our home"
    assert household["meter_point_id"] == world.household.meter_point_id
    people = [dict(zip(tables["accounts.User"]["columns"], row, strict=True)) for row in
              tables["accounts.User"]["rows"]]  # fmt: skip
    assert {p["username"] for p in people} == {"owner", "member"}
    assert all("@" in p["email"] for p in people)
    reading = dict(zip(*_only_row(tables["telemetry.MeterReading"]), strict=True))
    assert reading["import_wh"] == {"1": 1000}  # JSON stays JSON, not a string

    text = content.decode("latin-1") + json.dumps(document)
    for foreign in world.foreign_ids():
        assert foreign not in json.dumps(document), foreign
        assert all(foreign not in "".join(",".join(r) for r in rows) for rows in csvs.values())
    for word in SECRET_WORDS:
        assert word not in json.dumps(document), word
    assert "neighbour@" not in text


def _only_row(table: dict[str, Any]) -> tuple[list[str], list[Any]]:
    assert len(table["rows"]) == 1
    return table["columns"], table["rows"][0]


def test_the_export_is_recorded_with_its_counts(world: World) -> None:
    populate(world)
    body(export_as(world, "household_owner", world.household))
    record = DataRightsRecord.objects.get(kind=DataRightsKind.EXPORT)
    assert record.household_id == world.household.pk
    assert record.tenant_id == world.household.tenant_id
    assert record.requested_by == world.users["household_owner"]
    assert record.finished_at is not None
    assert record.counts["telemetry.MeterReading"] == 1
    assert record.counts["households.Household"] == 1


def test_a_large_table_is_read_in_chunks_and_complete(world: World, monkeypatch: Any) -> None:
    from apps.privacy import export

    monkeypatch.setattr(export, "CHUNK_ROWS", 7)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    MeterReading.objects.bulk_create(
        MeterReading(
            household=world.household, gateway=world.gateways["ours"], batch_id=uuid.UUID(int=1),
            seq=i, time=start + dt.timedelta(minutes=15 * i), meter_id="M1",
        )
        for i in range(100)
    )  # fmt: skip
    document, csvs = read_export(body(export_as(world, "household_owner", world.household)))
    rows = document["tables"]["telemetry.MeterReading"]["rows"]
    assert len(rows) == 100 == len(csvs["telemetry.MeterReading"]) - 1
    times = [
        row[document["tables"]["telemetry.MeterReading"]["columns"].index("time")] for row in rows
    ]
    assert times == sorted(times)


# Who may export --------------------------------------------------------------------------

# The owner and a platform admin (on the household's request); everyone else: no such household.
EXPORT_STATUS = {role: (404, 404, 404) for role in ROLES} | {
    "household_owner": (200, 404, 404),
    "platform_admin": (200, 200, 200),
}


@pytest.mark.parametrize("role", ROLES)
def test_only_the_owner_or_a_platform_admin_may_export(world: World, role: str) -> None:
    targets = (world.household, world.neighbour, world.abroad)
    got = tuple(export_as(world, role, target).status_code for target in targets)
    assert got == EXPORT_STATUS[role]
    exports = DataRightsRecord.objects.filter(kind=DataRightsKind.EXPORT).count()
    assert exports == sum(1 for status in got if status == 200)


def test_anonymous_gets_nothing(world: World) -> None:
    assert export_as(world, None, world.household).status_code == 403  # type: ignore[arg-type]


def test_an_unknown_household_is_404(world: World) -> None:
    client = world.client("platform_admin")
    url = reverse("api-v1:household-export", kwargs={"household_id": uuid.uuid4()})
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/households/not-a-uuid/export/").status_code == 404
    assert client.post(url).status_code == 405


def test_the_exported_times_are_utc_iso(world: World) -> None:
    populate(world)
    document, _ = read_export(body(export_as(world, "household_owner", world.household)))
    table = document["tables"]["privacy.ConsentEvent"]
    at = table["rows"][0][table["columns"].index("at")]
    assert dt.datetime.fromisoformat(at.replace("Z", "+00:00")) == NOW
    assert timezone.is_aware(
        dt.datetime.fromisoformat(document["exported_at"].replace("Z", "+00:00"))
    )
