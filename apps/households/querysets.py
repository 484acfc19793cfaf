"""Scoping for models that hang off a household (gateways, devices, later telemetry)."""

from __future__ import annotations

from typing import Any, Self, TypeVar

from django.db import models

from apps.core.permissions import Action, Scope, scope_for
from apps.households.models import Household

M = TypeVar("M", bound=models.Model)


class HouseholdOwnedQuerySet(models.QuerySet[M]):
    """`restrict()` through the owning household; tenant-wide roles also see unassigned rows."""

    household_field = "household"
    tenant_field: str | None = None  # set when rows may exist without a household

    def restrict(self, user: Any, action: Action) -> Self:
        scope = scope_for(user, action)
        if scope is Scope.ALL:
            return self
        if scope is Scope.NONE:
            return self.none()
        if scope is Scope.TENANT and self.tenant_field:
            return self.filter(**{f"{self.tenant_field}_id": user.tenant_id})
        households = Household.objects.restrict(user, action).values("pk")
        return self.filter(**{f"{self.household_field}__in": households})
