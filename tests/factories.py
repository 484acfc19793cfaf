"""factory_boy factories for the shared test world."""

from __future__ import annotations

import itertools
from decimal import Decimal

import factory

from apps.accounts.models import User
from apps.core.meter_points import with_check_digit
from apps.core.permissions import Role
from apps.devices.models import Device, DeviceKind
from apps.fleet.models import Gateway
from apps.households.models import Household
from apps.tenants.models import Currency, InstallerCompany, MeterProtocol, Tenant, TenantKind

_meter_numbers = itertools.count(1)


def meter_point_for(country: str) -> str:
    n = next(_meter_numbers)
    if country == "GB":
        return with_check_digit("GB", f"12{n:010d}")
    if country == "FR":
        return f"{n:014d}"
    return with_check_digit("BE", f"5414{n:013d}")


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.Sequence(lambda n: f"Tenant {n}")
    kind = TenantKind.ENERGY_PARTNER
    country = "BE"
    currency = Currency.EUR
    timezone = "Europe/Brussels"
    language = "nl"
    dso_name = "Fluvius"
    meter_protocol = MeterProtocol.P1_EMUCS


class InstallerCompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InstallerCompany

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Installer company {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    role = Role.HOUSEHOLD_OWNER
    tenant = factory.SubFactory(TenantFactory)
    language = "en"
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Household {n}")
    address = "1 Kerkstraat"
    postcode = "9000"
    city = "Gent"
    timezone = factory.LazyAttribute(lambda h: h.tenant.timezone)
    meter_point_id = factory.LazyAttribute(lambda h: meter_point_for(h.tenant.country))
    contracted_power_kva = Decimal("9.2")


class GatewayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Gateway

    household = factory.SubFactory(HouseholdFactory)
    tenant = factory.LazyAttribute(lambda g: g.household.tenant)
    serial = factory.Sequence(lambda n: f"HEB-T-{n:06d}")
    firmware_version = "1.5.0"


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"Device {n}")
    kind = DeviceKind.APPLIANCE
    rated_power_w = 2000
    controllable = True
