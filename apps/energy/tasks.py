from datetime import datetime

from celery import shared_task

from apps.energy import services
from apps.households.models import Household


@shared_task
def rollup_household(household_id: str, start_iso: str, end_iso: str) -> int:
    """Recompute the rollups a batch with readings in [start, end] changes (idempotent)."""
    household = Household.objects.filter(pk=household_id).first()
    if household is None:  # deleted since the batch arrived
        return 0
    return services.energy_rollup_household(
        household=household,
        start=datetime.fromisoformat(start_iso),
        end=datetime.fromisoformat(end_iso),
    )


@shared_task
def rollup_recent() -> int:
    return services.energy_rollup_recent()
