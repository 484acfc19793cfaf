from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from apps.core.permissions import Action
from apps.fleet.models import Gateway, GatewayCommand, GatewayQuerySet


def gateway_list(*, user: Any, action: Action = Action.VIEW) -> GatewayQuerySet:
    return Gateway.objects.restrict(user, action).select_related("tenant", "household")


# A box sends a heartbeat every few minutes; silent for 15 minutes, or never heard: offline.
OFFLINE_AFTER = timedelta(minutes=15)


def gateway_online(gateway: Any, now: datetime | None = None) -> bool:
    last_seen = getattr(gateway, "last_seen_at", None)
    if last_seen is None:
        return False
    return (now or timezone.now()) - last_seen <= OFFLINE_AFTER


STARTING_KINDS = ("start_program", "switch_on")


def commands_starting(*, household_id: Any, start: datetime, end: datetime) -> list[Any]:
    """Commands not yet run that will switch a device on between `start` and `end`."""
    return list(
        GatewayCommand.objects.waiting()
        .filter(
            household_id=household_id,
            kind__in=STARTING_KINDS,
            device__isnull=False,
            not_before__gte=start,
            not_before__lt=end,
        )
        .select_related("device")
    )
