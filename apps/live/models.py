"""Overload episodes and the notifications the household receives about them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import UUIDModel
from apps.households.querysets import HouseholdOwnedQuerySet


class OverloadLevel(models.TextChoices):
    WARNING = "warning", _("Near the limit")  # at or above 90 % of the limit
    CRITICAL = "critical", _("Will trip")  # the supply trips within the horizon at this rate


class OverloadEpisodeQuerySet(HouseholdOwnedQuerySet["OverloadEpisode"]):
    pass


class OverloadEpisode(UUIDModel):
    """From the first reading at 90 % of the limit to the first one back below it."""

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="overload_episodes"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    level = models.CharField(max_length=10, choices=OverloadLevel.choices)  # the worst reached
    peak_va = models.PositiveIntegerField()
    limit_va = models.PositiveIntegerField()
    shortest_trip_in_s = models.PositiveIntegerField(null=True, blank=True)

    objects = OverloadEpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["household", "-started_at"], name="overload_household")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.level} at {self.started_at:%Y-%m-%d %H:%M}"


class NotificationQuerySet(HouseholdOwnedQuerySet["Notification"]):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(UUIDModel):
    """A message to the household, shown in the portal and pushed live."""

    class Kind(models.TextChoices):
        OVERLOAD = "overload", _("Overload")

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    level = models.CharField(max_length=10, choices=OverloadLevel.choices)
    # The figures, not the words: the text is written in the reader's language when shown.
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["household", "-created_at"], name="notification_household")]

    def __str__(self) -> str:
        return f"{self.kind} {self.level} at {self.created_at:%Y-%m-%d %H:%M}"
