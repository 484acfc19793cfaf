from celery import shared_task

from apps.telemetry import services


@shared_task
def ensure_partitions(months_ahead: int = 3) -> list[str]:
    return services.telemetry_partitions_ensure(months_ahead=months_ahead)


@shared_task
def enforce_retention() -> int:
    return services.telemetry_retention_enforce()
