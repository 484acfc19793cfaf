"""The live page's power figures, and the nav's unread notifications for household users."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.db.models import Count, Q

from apps.core.permissions import Action, Role
from apps.households.models import Household
from apps.portal import live_view

register = template.Library()

HOUSEHOLD_ROLES = {Role.HOUSEHOLD_OWNER, Role.HOUSEHOLD_MEMBER}


@register.filter
def power(watts: Any) -> str:
    return live_view.power(watts)


@register.filter
def kva(va: Any) -> str:
    return live_view.kva(va)


@register.filter
def parse_iso(value: Any) -> datetime | None:
    """A frame's ISO time as a datetime, for the date filters (None when it is not one)."""
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


@register.filter
def minutes(seconds: Any) -> int:
    """Seconds to a trip in whole minutes, at least one (as the notifications count them)."""
    return max(1, round(int(seconds) / 60))


@register.simple_tag(takes_context=True)
def notification_nav(context: template.Context) -> dict[str, Any] | None:
    """{"household_id", "unread"} for the nav's link and badge, or None (no link).

    One query for a household user: their households with each one's unread count (the
    link goes to the one with most unread); none for staff, third parties and anonymous.
    """
    user: Any = context.get("user")
    if not getattr(user, "is_authenticated", False) or user.role not in HOUSEHOLD_ROLES:
        return None
    rows = list(
        Household.objects.restrict(user, Action.VIEW_CONSUMPTION)
        .annotate(unread=Count("notifications", filter=Q(notifications__read_at__isnull=True)))
        .order_by("-unread", "name")
        .values_list("pk", "unread")
    )
    if not rows:
        return None
    return {"household_id": rows[0][0], "unread": sum(unread for _pk, unread in rows)}
