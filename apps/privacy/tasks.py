"""Celery tasks of the privacy app: thin, idempotent, ids in and counts out."""

from __future__ import annotations

from celery import shared_task

from apps.privacy import retention


@shared_task
def enforce_retention() -> dict[str, int]:
    """Daily: delete what is older than the retention limits; returns the counts."""
    return dict(retention.retention_enforce().counts)
