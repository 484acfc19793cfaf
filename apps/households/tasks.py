from celery import shared_task

from apps.households import services


@shared_task
def expire_installer_assignments() -> int:
    return services.installer_assignments_expire()
