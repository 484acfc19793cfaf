"""What the appliance planner page shows: the form, the last plan's result, the plans.

The planner itself is apps.scheduling (plan_appliance, plan_cancel); this module only
turns its PlanRequests into sentences in the household's time ("Starts tonight at 23:15,
done by 01:00") and money rounded to the cent in the tenant's currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import formats
from django.utils.translation import gettext as _

from apps.core.permissions import Action
from apps.energy.costs import rounded
from apps.households.models import Household
from apps.scheduling.models import (
    ApplianceProgram,
    PlanRequest,
    PlanStatus,
    SchedulingPreferences,
)

HISTORY = 20  # finished plans listed under the active ones
DEFAULT_DONE_BY = time(7, 0)  # tomorrow morning, as the apps of the field propose
EVENING = 18  # from this hour "today" is "tonight" (and so is early tomorrow morning)
EARLY_MORNING = 6  # asked after NOON
NOON = 12

BADGE = {  # the status badge's class (static/css/app.css)
    PlanStatus.PLANNED: "wait",
    PlanStatus.STARTED: "run",
    PlanStatus.DONE: "ok",
    PlanStatus.FAILED: "off",
    PlanStatus.CANCELLED: "",
    PlanStatus.INFEASIBLE: "off",
}


def program_choices(*, user: Any, household: Household) -> QuerySet[ApplianceProgram]:
    """The programmes the user may start in this household (none: read-only)."""
    return (
        ApplianceProgram.objects.restrict(user, Action.CONTROL_DEVICES)
        .filter(device__household=household)
        .select_related("device")
        .order_by("device__name", "name")
    )


def may_control(*, user: Any, household: Household) -> bool:
    return Household.objects.restrict(user, Action.CONTROL_DEVICES).filter(pk=household.pk).exists()


def default_done_by(now: datetime, zone: ZoneInfo) -> datetime:
    """Tomorrow 07:00 at home, naive (the datetime-local input's wall-clock value)."""
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, DEFAULT_DONE_BY)


def _hm(moment: datetime) -> str:
    return formats.time_format(moment, "H:i")


def start_sentence(start: datetime, end: datetime, *, now: datetime, zone: ZoneInfo) -> str:
    """ "Starts tonight at 23:15, done by 01:00" in the household's zone."""
    local, finish, today = start.astimezone(zone), end.astimezone(zone), now.astimezone(zone)
    values = {"start": _hm(local), "end": _hm(finish)}
    days = (local.date() - today.date()).days
    if (days == 0 and local.hour >= EVENING) or (
        days == 1 and local.hour < EARLY_MORNING and today.hour >= NOON
    ):
        return _("Starts tonight at %(start)s, done by %(end)s") % values
    if days == 0:
        return _("Starts today at %(start)s, done by %(end)s") % values
    if days == 1:
        return _("Starts tomorrow at %(start)s, done by %(end)s") % values
    values["day"] = formats.date_format(local, "l j F")
    return _("Starts on %(day)s at %(start)s, done by %(end)s") % values


def _cents(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else rounded(amount)


@dataclass
class PlanRow:
    """A plan as the page shows it (money rounded to the cent, times in the home's zone)."""

    plan: PlanRequest
    badge: str
    end: datetime | None  # when the programme ends, at its planned start
    expected_cost: Decimal | None
    cost_if_now: Decimal | None
    saving: Decimal | None
    sentence: str  # the planned start, or the nearest proposal of an infeasible plan

    @property
    def surcharge(self) -> Decimal | None:
        """How much more than starting now (quiet hours or the limit may cost a little)."""
        return -self.saving if self.saving is not None and self.saving < 0 else None

    @property
    def cancellable(self) -> bool:
        return self.plan.status == PlanStatus.PLANNED


def plan_row(plan: PlanRequest, *, now: datetime, zone: ZoneInfo) -> PlanRow:
    end = sentence = None
    if plan.planned_start is not None:
        end = plan.planned_start + timedelta(minutes=plan.program.duration_minutes)
        sentence = start_sentence(plan.planned_start, end, now=now, zone=zone)
    return PlanRow(
        plan=plan, badge=BADGE.get(PlanStatus(plan.status), ""), end=end,
        expected_cost=_cents(plan.expected_cost), cost_if_now=_cents(plan.cost_if_now),
        saving=_cents(plan.saving), sentence=sentence or "",
    )  # fmt: skip


def plan_rows(*, user: Any, household: Household, now: datetime, zone: ZoneInfo) -> list[PlanRow]:
    """The active plans, soonest first, then the last HISTORY others, newest first."""
    plans = (
        PlanRequest.objects.restrict(user, Action.VIEW)
        .filter(household=household)
        .select_related("program__device")
    )
    active = list(plans.active().order_by("planned_start", "created_at"))
    done = list(plans.exclude(pk__in=[p.pk for p in active]).order_by("-created_at")[:HISTORY])
    return [plan_row(plan, now=now, zone=zone) for plan in active + done]


def quiet_hours(*, household: Household) -> SchedulingPreferences | None:
    return SchedulingPreferences.objects.filter(household=household).first()


def context(
    *, user: Any, household: Household, now: datetime, result_id: Any = None
) -> dict[str, Any]:
    """Everything but the forms: the plans, the result card, the quiet hours."""
    zone = ZoneInfo(household.timezone)
    rows = plan_rows(user=user, household=household, now=now, zone=zone)
    result = None
    if result_id:
        result = next((row for row in rows if str(row.plan.pk) == str(result_id)), None)
        if result is None:  # older than the listed ones
            plan = (
                PlanRequest.objects.restrict(user, Action.VIEW)
                .filter(household=household, pk=result_id)
                .select_related("program__device")
                .first()
            )
            result = plan_row(plan, now=now, zone=zone) if plan else None
    return {
        "household": household,
        "currency": household.tenant.currency,
        "rows": rows,
        "result": result,
        "preferences": quiet_hours(household=household),
    }
