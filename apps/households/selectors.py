from typing import Any

from django.db.models import QuerySet

from apps.core.permissions import Action
from apps.households.models import (
    Household,
    HouseholdQuerySet,
    InstallerAssignment,
    Membership,
)


def household_list(*, user: Any, action: Action = Action.VIEW) -> HouseholdQuerySet:
    return Household.objects.restrict(user, action).select_related("tenant")


def household_get(*, user: Any, household_id: Any, action: Action = Action.VIEW) -> Household:
    """The household, or Household.DoesNotExist (a 404) when it is outside the user's scope."""
    return household_list(user=user, action=action).get(pk=household_id)


def household_can(*, user: Any, household: Household, action: Action) -> bool:
    return Household.objects.restrict(user, action).filter(pk=household.pk).exists()


def member_list(*, household: Household) -> QuerySet[Membership]:
    return household.memberships.select_related("user").order_by("created_at")


def installer_assignment_list(*, household: Household) -> QuerySet[InstallerAssignment]:
    return household.installer_assignments.select_related("installer", "assigned_by")
