"""Writes for the reports: opting in and out, and sending a period's report once.

Reports go out in each household's local morning: the hourly beat task asks `reports_due`
which (subscription, period, first day) pairs are due now — yesterday every day, last week
on Mondays, last month on the 1st, from 07:00 local time (until noon, so that a missed
beat hour catches up) — and `report_send` sends each one at most once: the `SentReport`
row and the send share one transaction, and the row's unique key stops a second send.

Coaching tips are computed by the hourly task for the households not checked for a day,
or when someone who can act on them asks (`tips_refresh`); pages only read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.permissions import Action
from apps.energy.reports import previous_day
from apps.households.models import Household
from apps.insights import selectors
from apps.insights.coaching import Tip, coaching_tips
from apps.insights.emails import report_email
from apps.insights.models import ReportSubscription, SentReport, TipCheck, TipState, TipStatus
from apps.insights.reports import ReportPeriodName, first_day_of, report_build
from apps.privacy.policy import Resolution, consumption_access

SEND_HOUR = 7  # local time
CATCH_UP_UNTIL_HOUR = 12  # a report still unsent by noon waits for the next period


def subscription_set(
    *,
    household: Household,
    user: Any,
    daily: bool,
    weekly: bool,
    monthly: bool,
    now: datetime | None = None,
) -> ReportSubscription:
    """The user's explicit choice of reports for a household they may read in full."""
    if not Household.objects.restrict(user, Action.VIEW_CONSUMPTION).filter(pk=household.pk):
        raise PermissionDenied(_("You cannot receive this household's reports."))
    if (daily or weekly or monthly) and not user.email:
        raise ValidationError(_("An email address is needed to receive reports."))
    subscription, _created = ReportSubscription.objects.get_or_create(
        household=household, user=user
    )
    was_in = subscription.daily or subscription.weekly or subscription.monthly
    subscription.daily, subscription.weekly, subscription.monthly = daily, weekly, monthly
    if (daily or weekly or monthly) and not was_in:
        subscription.opted_in_at = now or timezone.now()
    subscription.save()
    return subscription


@dataclass(frozen=True)
class Due:
    subscription_id: Any
    period: ReportPeriodName
    first_day: date


def periods_due(local: datetime) -> list[tuple[ReportPeriodName, date]]:
    """The finished periods whose report goes out on the local morning of `local`."""
    if not SEND_HOUR <= local.hour < CATCH_UP_UNTIL_HOUR:
        return []
    today = local.date()
    due: list[tuple[ReportPeriodName, date]] = [("day", previous_day("day", today))]
    if today.weekday() == 0:
        due.append(("week", first_day_of("week", today - timedelta(days=7))))
    if today.day == 1:
        due.append(("month", first_day_of("month", today - timedelta(days=1))))
    return due


def reports_due(*, now: datetime) -> list[Due]:
    """Reports due at `now` and not sent yet, for the households in their morning."""
    zones = {
        zone: periods_due(selectors.local_now(now, zone)) for zone in selectors.subscription_zones()
    }
    zones = {zone: due for zone, due in zones.items() if due}
    if not zones:
        return []
    wanted = [
        (sub, period, first)
        for sub in selectors.subscriptions_in_zones(zones=list(zones))
        for period, first in zones[sub.household.timezone]
        if sub.wants(period)
    ]
    if not wanted:
        return []
    sent = set(
        SentReport.objects.filter(
            household_id__in={sub.household_id for sub, _p, _f in wanted},
            start__in={first for _s, _p, first in wanted},
        ).values_list("household_id", "user_id", "period", "start")
    )
    return [
        Due(sub.pk, period, first)
        for sub, period, first in wanted
        if (sub.household_id, sub.user_id, period, first) not in sent
    ]


def report_send(*, subscription_id: Any, period: ReportPeriodName, first_day: date) -> bool:
    """Send one period's report to one subscriber, once; False when not sent (already sent,
    opted out since, or no longer allowed to read the household's consumption)."""
    subscription = (
        ReportSubscription.objects.select_related("household__tenant", "user__tenant")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None or not subscription.wants(period):
        return False
    user, household = subscription.user, subscription.household
    if not user.is_active or not user.email:
        return False
    try:  # the same policy as the portal page: membership removed, role changed → nothing
        consumption_access(user=user, household_id=household.pk, resolution=Resolution.DAY)
    except (Http404, PermissionDenied):
        return False
    language = user.preferred_language
    report = report_build(household=household, period=period, day=first_day)
    message = report_email(report=report, to=user.email, language=language)
    try:
        with transaction.atomic():
            SentReport.objects.create(
                household=household, user=user, period=period, start=first_day, language=language
            )
            # A failed send rolls the row back: the next run tries again.
            message.send(fail_silently=False)
    except IntegrityError:  # sent already (a re-run, a retry, another worker)
        return False
    return True


def reports_send_due(*, now: datetime) -> int:
    sent = 0
    for due in reports_due(now=now):
        sent += report_send(
            subscription_id=due.subscription_id, period=due.period, first_day=due.first_day
        )
    return sent


# Coaching tips: what the household does with them ----------------------------------------


def tip_key(tip: Tip) -> str:
    """The state's key of a tip: its kind, with the appliance for the per-appliance tips."""
    device = tip.evidence.get("device")
    key = f"{tip.kind}:{device}" if device else tip.kind
    return key[: TipState._meta.get_field("kind").max_length]


def tips_refresh(
    *, household: Household, now: datetime | None = None
) -> list[tuple[Tip, TipState]]:
    """Compute the household's tips and record a state for each (the biggest saving first).

    A new tip is open; an open one takes the new figure, title and values; a dismissed or
    done one stays as it is (its figure is what the habit was worth). A tip no longer
    found keeps its state too. The check's time is recorded (`TipCheck`)."""
    now = now or timezone.now()
    out = []
    for tip in coaching_tips(household=household, now=now):
        title = tip.title[: TipState._meta.get_field("title").max_length]
        state, created = TipState.objects.get_or_create(
            household=household,
            kind=tip_key(tip),
            defaults={
                "title": title, "eur_per_year": tip.eur_per_year, "values": tip.values,
                "first_seen_at": now, "updated_at": now,
            },
        )  # fmt: skip
        if not created and state.status == TipStatus.OPEN:
            state.title, state.eur_per_year, state.updated_at = title, tip.eur_per_year, now
            state.values = tip.values
            state.save(update_fields=["title", "eur_per_year", "values", "updated_at"])
        out.append((tip, state))
    TipCheck.objects.update_or_create(household=household, defaults={"checked_at": now})
    return out


def _tip_set(
    *, user: Any, household: Household, kind: str, status: str, now: datetime | None
) -> TipState:
    if not selectors.tips_may_change(user=user, household=household):
        raise PermissionDenied(_("You cannot change this household's tips."))
    now = now or timezone.now()
    with transaction.atomic():
        state = TipState.objects.select_for_update().filter(household=household, kind=kind).first()
        if state is None:
            raise TipState.DoesNotExist(kind)
        state.status = status
        state.updated_at = now
        state.done_at = now if status == TipStatus.DONE else None
        state.save(update_fields=["status", "updated_at", "done_at"])
    return state


def tip_dismiss(
    *, user: Any, household: Household, kind: str, now: datetime | None = None
) -> TipState:
    """The household does not want this tip: it is no longer shown."""
    return _tip_set(user=user, household=household, kind=kind, status=TipStatus.DISMISSED, now=now)


def tip_done(
    *, user: Any, household: Household, kind: str, now: datetime | None = None
) -> TipState:
    """The household took this habit up: it counts in the reports at its € per year."""
    return _tip_set(user=user, household=household, kind=kind, status=TipStatus.DONE, now=now)
