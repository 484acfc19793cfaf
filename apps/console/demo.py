"""The demo world: the telco, three energy partners, their households, boxes and people.

Deterministic for a seed (ids included), and safe to run again: every row is
updated in place. Passwords are never in the repository: they come from
DEMO_PASSWORD or are generated afresh on each run and printed.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.accounts.models import User
from apps.core.meter_points import with_check_digit
from apps.core.permissions import Role
from apps.devices.models import Device, DeviceKind
from apps.fleet import secrets as fleet_secrets
from apps.fleet import services as fleet_services
from apps.fleet.models import Connectivity, Gateway, MeterPairing, PairingStatus
from apps.fleet.simulation import LOCATIONS
from apps.forecasting.models import PvSystem
from apps.households import services as household_services
from apps.households.models import HeatingType, Household, InstallerAssignment
from apps.privacy import consent
from apps.privacy.models import Purpose, RecipientKind, Resolution
from apps.scheduling.programs import programs_install
from apps.tariffs.defaults import ensure_default_tariffs
from apps.tenants.models import Currency, InstallerCompany, MeterProtocol, Tenant, TenantKind

HOUSEHOLDS_PER_TENANT = 20
SPARE_GATEWAYS_PER_TENANT = 3


@dataclass(frozen=True)
class PartnerSpec:
    slug: str
    name: str
    country: str
    code: str
    currency: str
    timezone: str
    language: str
    dso: str
    protocol: str
    installer_company: str
    cities: tuple[tuple[str, str], ...]
    streets: tuple[str, ...]
    surnames: tuple[str, ...]
    contract_kva: tuple[str, ...]


OPERATOR = {
    "slug": "telecom-italia", "name": "Telecom Italia", "country": "IT", "currency": Currency.EUR,
    "timezone": "Europe/Rome", "language": "it", "kind": TenantKind.OPERATOR,
}  # fmt: skip

PARTNERS = (
    PartnerSpec(
        "upl", "UPL", "GB", "uk", Currency.GBP, "Europe/London", "en", "UK Power Networks",
        MeterProtocol.SMETS2_CAD, "UPL Installations Ltd",
        (("London", "SE1 7PB"), ("Brighton", "BN1 3XE"), ("Reading", "RG1 2LU")),
        ("Acacia Avenue", "Station Road", "Church Lane", "Victoria Street", "Mill Road"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Patel"),
        ("13.8", "18.4", "23.0"),  # 60, 80 and 100 A main fuses at 230 V
    ),
    PartnerSpec(
        "gdf-suez", "GDF Suez", "FR", "fr", Currency.EUR, "Europe/Paris", "fr", "Enedis",
        MeterProtocol.LINKY_TIC, "GDF Suez Services Installation",
        (("Paris", "75011"), ("Lyon", "69003"), ("Nantes", "44000")),
        ("rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Voltaire"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"),
        ("3", "6", "9", "12"),  # Linky subscribed power
    ),
    PartnerSpec(
        "lab", "LAB", "BE", "be", Currency.EUR, "Europe/Brussels", "nl", "Fluvius",
        MeterProtocol.P1_EMUCS, "LAB Installateurs",
        (("Gent", "9000"), ("Antwerpen", "2000"), ("Leuven", "3000")),
        ("Kerkstraat", "Stationsstraat", "Dorpsstraat", "Molenstraat", "Schoolstraat"),
        ("Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens"),
        ("9.2", "9.2", "13.9"),  # 40 A single-phase, 3x25 A three-phase
    ),
)  # fmt: skip

BASE_APPLIANCES = (
    ("Fridge", 150, False),
    ("Washing machine", 2100, True),
    ("Dishwasher", 1800, True),
    ("Oven", 2500, False),
)
FIRMWARES = ("1.4.2", "1.5.0", "1.5.1")


@dataclass
class DemoLogin:
    username: str
    role: str
    tenant: str
    password: str


@dataclass
class SpareBox:
    serial: str
    claim_code: str  # printed like a label: an installer claims the box with it
    tenant: str


class DemoBuilder:
    def __init__(self, seed: int, password: str | None) -> None:
        self.rng = random.Random(seed)
        self.password = password
        self.logins: list[DemoLogin] = []
        self.spare_boxes: list[SpareBox] = []

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def digits(self, n: int) -> str:
        return "".join(str(self.rng.randrange(10)) for _ in range(n))

    @transaction.atomic
    def build(self) -> DemoBuilder:
        operator = self.tenant(**OPERATOR)
        self.user("admin", Role.PLATFORM_ADMIN, operator, is_staff=True, is_superuser=True)
        self.user("operator", Role.TELCO_OPERATOR, operator)
        for spec in PARTNERS:
            self.partner(spec)
        return self

    def tenant(self, **fields: Any) -> Tenant:
        tenant, _ = Tenant.objects.update_or_create(
            slug=fields["slug"], defaults=fields, create_defaults={"id": self.uuid(), **fields}
        )
        return tenant

    def user(
        self, username: str, role: str, tenant: Tenant, login: bool = True, **extra: Any
    ) -> User:
        first, last = username.split("_")[0].capitalize(), tenant.name
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "role": role, "tenant": tenant, "first_name": first, "last_name": last,
                "email": f"{username}@demo.invalid", "is_active": True, **extra,
            },
        )  # fmt: skip
        if login:
            password = self.password or secrets.token_urlsafe(9)
            user.set_password(password)
            self.logins.append(DemoLogin(username, user.get_role_display(), tenant.name, password))
        else:
            user.set_unusable_password()
        user.save()
        return user

    def partner(self, spec: PartnerSpec) -> None:
        tenant = self.tenant(
            slug=spec.slug, name=spec.name, country=spec.country, currency=spec.currency,
            timezone=spec.timezone, language=spec.language, dso_name=spec.dso,
            meter_protocol=spec.protocol, kind=TenantKind.ENERGY_PARTNER,
        )  # fmt: skip
        ensure_default_tariffs(tenant)
        company, _ = InstallerCompany.objects.update_or_create(
            tenant=tenant, name=spec.installer_company, create_defaults={"id": self.uuid()}
        )
        dso = self.user(f"dso_{spec.code}", Role.DSO_STAFF, tenant)
        installer = self.user(
            f"installer_{spec.code}", Role.INSTALLER, tenant, installer_company=company
        )
        households = [self.household(spec, tenant, n) for n in range(HOUSEHOLDS_PER_TENANT)]
        for n in range(SPARE_GATEWAYS_PER_TENANT):
            self.spare_box(tenant, f"HEB-{spec.country}-S{n:04d}")

        owner = self.user(f"owner_{spec.code}", Role.HOUSEHOLD_OWNER, tenant)
        household_services.household_add_owner(household=households[0], user=owner)
        member = self.user(f"member_{spec.code}", Role.HOUSEHOLD_MEMBER, tenant)
        household_services.member_add(household=households[0], user=member)
        for n, household in enumerate(households[1:], start=1):
            neighbour = self.user(
                f"owner_{spec.code}_{n:02d}", Role.HOUSEHOLD_OWNER, tenant, login=False
            )
            household_services.household_add_owner(household=household, user=neighbour)
        for household in households[:3]:
            if (
                not InstallerAssignment.objects.live()
                .filter(household=household, installer=installer)
                .exists()
            ):
                household_services.installer_assign(
                    household=household, installer=installer, assigned_by=dso
                )
        if spec.code == "be":
            # An energy-services company the first home shares hourly data with.
            third_party = self.user("thirdparty", Role.THIRD_PARTY, tenant)
            consent.consent_set(
                household=households[0], recipient_kind=RecipientKind.THIRD_PARTY,
                purpose=Purpose.ENERGY_SERVICES, resolution=Resolution.HOUR, granted=True,
                by=owner, third_party=third_party,
            )  # fmt: skip
        self.pairings(spec, households, dso)

    def spare_box(self, tenant: Tenant, serial: str) -> None:
        """A box in stock, unclaimed; its claim code is new at each seeding, like a password."""
        gateway = self.gateway(tenant, None, serial)
        code = fleet_services.new_claim_code()
        gateway.claim_code_hash = fleet_secrets.hash_claim_code(code)
        gateway.claimed_at = gateway.claimed_by = None
        gateway.save(update_fields=["claim_code_hash", "claimed_at", "claimed_by"])
        self.spare_boxes.append(SpareBox(serial, code, tenant.name))

    def pairings(self, spec: PartnerSpec, households: list[Household], dso: User) -> None:
        """Most boxes read their meter; the last two wait in the DSO's approval queue."""
        for n, household in enumerate(households):
            gateway = household.gateways.get()
            meter_id = self.meter_id(spec.country)
            gateway.meter_id_seen = meter_id
            gateway.save(update_fields=["meter_id_seen"])
            approved = n < len(households) - 2
            MeterPairing.objects.update_or_create(
                gateway=gateway,
                defaults={
                    "household": household, "meter_point_id": household.meter_point_id,
                    "meter_id": meter_id,
                    "status": PairingStatus.APPROVED if approved else PairingStatus.REQUESTED,
                    "decided_by": dso if approved else None,
                },
                create_defaults={
                    "id": self.uuid(), "household": household,
                    "meter_point_id": household.meter_point_id, "meter_id": meter_id,
                    "status": PairingStatus.APPROVED if approved else PairingStatus.REQUESTED,
                    "decided_by": dso if approved else None,
                },
            )  # fmt: skip

    def meter_id(self, country: str) -> str:
        """What the meter sends on its port: P1 equipment id, Linky ADSC, SMETS2 serial."""
        if country == "BE":
            return "1SAG" + self.digits(10)
        if country == "FR":
            return self.digits(12)
        return f"{self.rng.randrange(10, 99)}L{self.digits(7)}"

    def household(self, spec: PartnerSpec, tenant: Tenant, n: int) -> Household:
        rng = self.rng
        city, postcode = rng.choice(spec.cities)
        surname = rng.choice(spec.surnames)
        has_heat_pump = rng.random() < 0.25
        household, _ = Household.objects.update_or_create(
            id=self.uuid(),
            defaults={
                "tenant": tenant,
                "name": f"{surname} {n + 1:02d}",
                "address": f"{rng.randint(1, 180)} {rng.choice(spec.streets)}",
                "postcode": postcode,
                "city": city,
                "timezone": spec.timezone,
                "meter_point_id": self.meter_point_id(spec.country),
                "contracted_power_kva": Decimal(rng.choice(spec.contract_kva)),
                "household_size": rng.randint(1, 5),
                "heating_type": HeatingType.HEAT_PUMP
                if has_heat_pump
                else rng.choice(
                    [HeatingType.GAS, HeatingType.GAS, HeatingType.ELECTRIC, HeatingType.OIL]
                ),
            },
        )
        gateway = self.gateway(tenant, household, f"HEB-{spec.country}-{n:05d}")
        self.devices(spec, household, gateway, has_heat_pump)
        return household

    def meter_point_id(self, country: str) -> str:
        if country == "GB":
            return with_check_digit("GB", "1" + str(self.rng.randint(0, 9)) + self.digits(10))
        if country == "FR":
            return self.digits(14)
        return with_check_digit("BE", "5414" + self.digits(13))

    def gateway(self, tenant: Tenant, household: Household | None, serial: str) -> Gateway:
        rng = self.rng
        gateway_id = self.uuid()
        fields = {
            "tenant": tenant,
            "household": household,
            "firmware_version": rng.choice(FIRMWARES),
            "connectivity": Connectivity.CELLULAR_3G if rng.random() < 0.15 else Connectivity.DSL,
        }
        gateway, _ = Gateway.objects.update_or_create(
            serial=serial, defaults=fields, create_defaults={"id": gateway_id, **fields}
        )
        return gateway

    def devices(
        self, spec: PartnerSpec, household: Household, gateway: Gateway, heat_pump: bool
    ) -> None:
        rng = self.rng
        wanted: list[tuple[str, str, int, bool]] = [
            (name, DeviceKind.APPLIANCE, watts, ctl) for name, watts, ctl in BASE_APPLIANCES
        ]
        if rng.random() < 0.4:
            wanted.append(
                ("Solar inverter", DeviceKind.PV_INVERTER, rng.choice([3000, 4000, 6000]), False)
            )
            if rng.random() < 0.5:
                wanted.append(("Home battery", DeviceKind.BATTERY, 5000, True))
        if rng.random() < 0.25:
            wanted.append(("EV charger", DeviceKind.EV_CHARGER, 7400, True))
        if heat_pump:
            wanted.append(("Heat pump", DeviceKind.HEAT_PUMP, 3000, True))
        if spec.country == "FR" and rng.random() < 0.5:
            wanted.append(("Water heater", DeviceKind.WATER_HEATER, 2400, True))
        for name, kind, watts, controllable in wanted:
            device, _ = Device.objects.update_or_create(
                id=self.uuid(),
                defaults={
                    "household": household, "gateway": gateway, "name": name, "kind": kind,
                    "rated_power_w": watts, "controllable": controllable,
                },
            )  # fmt: skip
            programs_install(device=device)  # what the planner plans with
            if kind == DeviceKind.PV_INVERTER:
                self.pv_system(spec, household, device)
        # A household re-seeded keeps exactly the devices of this seed.
        Device.objects.filter(household=household).exclude(name__in=[w[0] for w in wanted]).delete()
        PvSystem.objects.filter(household=household, device__isnull=True).delete()

    def pv_system(self, spec: PartnerSpec, household: Household, inverter: Device) -> None:
        """The roof the PV forecast models: the city's location, a south roof at 35°."""
        latitude, longitude, _zone = LOCATIONS[spec.country]
        kw = inverter.rated_power_w / 1000
        PvSystem.objects.update_or_create(
            household=household, device=inverter,
            defaults={"latitude": latitude, "longitude": longitude, "kwp": kw * 1.1,
                      "tilt_deg": 35, "azimuth_deg": 180, "inverter_ac_kw": kw},
            create_defaults={"id": self.uuid(), "latitude": latitude, "longitude": longitude,
                             "kwp": kw * 1.1, "tilt_deg": 35, "azimuth_deg": 180,
                             "inverter_ac_kw": kw},
        )  # fmt: skip


def seed_demo(*, seed: int = 1, password: str | None = None) -> DemoBuilder:
    """The demo world; the builder keeps the logins and the spare boxes' claim codes."""
    return DemoBuilder(seed, password).build()
