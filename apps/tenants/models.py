from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import UUIDModel
from apps.core.permissions import Action, Scope, scope_for


class TenantKind(models.TextChoices):
    OPERATOR = "operator", _("Operator (telco)")
    ENERGY_PARTNER = "energy_partner", _("Energy partner")


class Currency(models.TextChoices):
    EUR = "EUR", "EUR"
    GBP = "GBP", "GBP"


class MeterProtocol(models.TextChoices):
    NONE = "", _("None")
    P1_EMUCS = "p1_emucs", _("P1 port (DSMR / e-MUCS)")
    LINKY_TIC = "linky_tic", _("Linky TIC")
    SMETS2_CAD = "smets2_cad", _("SMETS2 via consumer access device")


class TenantQuerySet(models.QuerySet["Tenant"]):
    def restrict(self, user: Any, action: Action) -> TenantQuerySet:
        """Telco staff see every tenant; everyone else only their own (and only to view)."""
        if scope_for(user, action) is Scope.ALL:
            return self
        if action is Action.VIEW and scope_for(user, Action.VIEW) is not Scope.NONE:
            return self.filter(pk=user.tenant_id)
        return self.none()


class Tenant(UUIDModel):
    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(max_length=20, choices=TenantKind.choices)
    country = models.CharField(_("country"), max_length=2, help_text="ISO 3166-1 alpha-2")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    timezone = models.CharField(max_length=64)
    language = models.CharField(max_length=8)
    dso_name = models.CharField(_("DSO"), max_length=120, blank=True)
    meter_protocol = models.CharField(max_length=20, choices=MeterProtocol.choices, blank=True)
    pairing_auto_approve = models.BooleanField(
        _("approve meter pairings automatically"),
        default=False,
        help_text=_("Pair a gateway with the meter it reports, without waiting for DSO staff."),
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InstallerCompanyQuerySet(models.QuerySet["InstallerCompany"]):
    def restrict(self, user: Any, action: Action) -> InstallerCompanyQuerySet:
        return self.filter(tenant__in=Tenant.objects.restrict(user, action))


class InstallerCompany(UUIDModel):
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="installer_companies")
    name = models.CharField(max_length=120)

    objects = InstallerCompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "installer companies"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="installer_company_unique_name")
        ]

    def __str__(self) -> str:
        return self.name
