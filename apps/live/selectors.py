"""What the live page and the portal read: the newest frame, overloads, guard actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet

from apps.live.models import Notification, OverloadEpisode
from apps.live.services import frame_key, history_key
from apps.telemetry.models import GuardAction


def live_snapshot(*, household_id: Any) -> dict[str, Any] | None:
    """The frame last pushed for the household (None before its first batch)."""
    frame: dict[str, Any] | None = cache.get(frame_key(household_id))
    return frame


def live_history(*, household_id: Any) -> list[dict[str, Any]]:
    """The live chart's points of the last 15 minutes, oldest first."""
    points: list[dict[str, Any]] = cache.get(history_key(household_id)) or []
    return points


def overload_episodes(*, household_id: Any, limit: int = 20) -> list[OverloadEpisode]:
    return list(OverloadEpisode.objects.filter(household_id=household_id)[:limit])


def overload_episodes_between(
    *, household: Any, start: datetime, end: datetime
) -> list[OverloadEpisode]:
    """The episodes that started in [start, end), oldest first."""
    return list(
        OverloadEpisode.objects.filter(
            household=household, started_at__gte=start, started_at__lt=end
        ).order_by("started_at")
    )


def guard_actions(*, household_id: Any, limit: int = 20) -> list[GuardAction]:
    actions = GuardAction.objects.filter(household_id=household_id).select_related("device")
    return list(actions[:limit])


def notifications(*, household_id: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(household_id=household_id)
