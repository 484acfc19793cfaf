"""Report subscriptions (explicit opt-in per frequency) and the reports already sent.

A `SentReport` row is written in the same transaction as the send: the unique key
(household, user, period, start) makes a re-run of the beat task, a retried Celery task
or two workers racing send a period's report once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import UUIDModel
from apps.households.querysets import HouseholdOwnedQuerySet


class ReportPeriod(models.TextChoices):
    DAY = "day", _("Daily")
    WEEK = "week", _("Weekly")
    MONTH = "month", _("Monthly")


class ReportSubscriptionQuerySet(HouseholdOwnedQuerySet["ReportSubscription"]):
    def opted_in(self) -> ReportSubscriptionQuerySet:
        return self.filter(models.Q(daily=True) | models.Q(weekly=True) | models.Q(monthly=True))


class ReportSubscription(UUIDModel):
    """A household user's explicit choice of the reports mailed to them (all off by default)."""

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    daily = models.BooleanField(_("daily report"), default=False)
    weekly = models.BooleanField(_("weekly report"), default=False)
    monthly = models.BooleanField(_("monthly report"), default=False)
    opted_in_at = models.DateTimeField(_("opted in at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReportSubscriptionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["household", "user"], name="reportsubscription_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} for {self.household}"

    def wants(self, period: str) -> bool:
        return {"day": self.daily, "week": self.weekly, "month": self.monthly}.get(period, False)


class SentReportQuerySet(HouseholdOwnedQuerySet["SentReport"]):
    pass


class SentReport(UUIDModel):
    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(_("period"), max_length=8, choices=ReportPeriod.choices)
    start = models.DateField(_("first day"))  # in the household's calendar
    language = models.CharField(_("language"), max_length=8)

    objects = SentReportQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household", "user", "period", "start"], name="sentreport_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.period} {self.start}"


class TipStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DISMISSED = "dismissed", _("Dismissed")
    DONE = "done", _("Done")


class TipStateQuerySet(HouseholdOwnedQuerySet["TipState"]):
    pass


class TipState(UUIDModel):
    """What the household did with a coaching tip (one row per household and tip).

    `kind` is the tip's kind, with the appliance's name for the per-appliance tips
    ("appliance_consumption:Fridge"): a household may get that tip for several appliances.
    `title`, `values` and `eur_per_year` are the tip's as last computed (frozen once the
    tip is done or dismissed: what the habit is worth), the figure in the tenant's
    currency; `values` are what its text says, so that a page shows the tip again in the
    reader's language without computing it again."""

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="tip_states"
    )
    kind = models.CharField(_("tip"), max_length=160)
    title = models.CharField(_("title"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=TipStatus.choices, default=TipStatus.OPEN
    )
    eur_per_year = models.DecimalField(
        _("worth per year"), max_digits=12, decimal_places=2, default=0
    )
    values = models.JSONField(_("values"), default=dict, blank=True)
    first_seen_at = models.DateTimeField(_("first seen at"))
    updated_at = models.DateTimeField(_("updated at"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    objects = TipStateQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["household", "kind"], name="tipstate_unique")
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.kind} {self.status}"


class TipCheck(models.Model):
    """When the household's tips were last computed (by the daily task or on request):
    the page reads the stored tips, it does not compute them."""

    household = models.OneToOneField(
        "households.Household", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    checked_at = models.DateTimeField(_("checked at"))

    def __str__(self) -> str:
        return f"{self.household_id} {self.checked_at}"
