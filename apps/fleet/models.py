from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import UUIDModel
from apps.households.querysets import HouseholdOwnedQuerySet


class Connectivity(models.TextChoices):
    DSL = "dsl", "DSL"
    CELLULAR_3G = "3g", "3G"


class GatewayQuerySet(HouseholdOwnedQuerySet["Gateway"]):
    tenant_field = "tenant"


class Gateway(UUIDModel):
    """A Home Energy Box. It belongs to a tenant's fleet, and to a household once claimed."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="gateways")
    household = models.ForeignKey(
        "households.Household",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="gateways",
    )
    serial = models.CharField(_("serial"), max_length=32, unique=True)
    firmware_version = models.CharField(_("firmware"), max_length=32, blank=True)
    connectivity = models.CharField(
        _("connectivity"), max_length=8, choices=Connectivity.choices, default=Connectivity.DSL
    )
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)

    objects = GatewayQuerySet.as_manager()

    class Meta:
        ordering = ["serial"]

    def __str__(self) -> str:
        return self.serial
