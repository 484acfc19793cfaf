"""Plan a household's appliance around its prices, its PV and its limit; the box runs it.

A plan request ("run the dishwasher's eco programme, done by 07:00") becomes a MILP over
the quarter hours between now and the deadline (apps.scheduling.optimizer): the tariff's
import and export prices, the household's PV and base-load forecasts, the programmes
already planned, the contracted limit (kept under the 90 % warning line, so a plan never
triggers an overload warning) and the quiet hours. The chosen start goes to the box as a
`start_program` command that it runs on time even offline.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from apps.core.permissions import Action
from apps.fleet import services as fleet_services
from apps.forecasting import selectors as forecasts
from apps.households.models import Household
from apps.scheduling import optimizer as opt
from apps.scheduling.models import (
    ApplianceProgram,
    BatteryRule,
    EvChargingRule,
    PlanningRun,
    PlanRequest,
    PlanStatus,
    SchedulingPreferences,
    WaterHeaterRule,
)
from apps.tariffs.selectors import MissingPrice, NoTariff, price_slots
from gateway_agent.tripmodel import WARN_AT

log = logging.getLogger(__name__)

QUARTER = timedelta(minutes=15)
MAX_HORIZON = timedelta(hours=48)
BASE_LOAD_HISTORY = timedelta(days=7)
MONEY = Decimal("0.0001")
PARTIAL_PRICES = _lazy(
    "Planned with the prices published so far; planned again once the next day's are out."
)


@dataclass(frozen=True)
class Context:
    """What a household's plan is made of, apart from the appliance asked for."""

    household: Household
    start: datetime
    end: datetime
    slots: list[opt.Slot]
    planned: list[PlanRequest]


def plan_appliance(
    *,
    user: Any,
    program: ApplianceProgram,
    done_by: datetime,
    now: datetime,
    earliest_start: datetime | None = None,
) -> PlanRequest:
    """Plan `program` to finish by `done_by` at the least cost; issue the box's command."""
    device = program.device
    if (
        not ApplianceProgram.objects.restrict(user, Action.CONTROL_DEVICES)
        .filter(pk=program.pk)
        .exists()
    ):
        raise PermissionDenied(_("You may not control this device."))
    start = ceil_quarter(max(now, earliest_start or now))
    duration = QUARTER * len(program.profile_w)
    _check_window(start, done_by, duration)
    household = device.household
    request = PlanRequest(
        household=household, program=program, earliest_start=start, done_by=done_by,
        requested_by=user if getattr(user, "pk", None) else None,
    )  # fmt: skip
    try:
        context = _context_with_known_prices(household, start, done_by, duration)
    except (NoTariff, MissingPrice) as error:
        request.status, request.reasons = PlanStatus.INFEASIBLE, [price_reason(error)]
        request.save()
        return request
    if context.end < done_by:
        # Tomorrow's day-ahead prices come out around 13:00 CET: plan within the prices
        # known now; the evening's fleet run plans it again with the new ones.
        request.reasons = [str(PARTIAL_PRICES)]
    result = opt.solve(_problem(context, program, request))
    with transaction.atomic():
        if isinstance(result, opt.Infeasible):
            _record_infeasible(request, result, program)
            return request
        _record_plan(request, result, context, program)
        request.command = fleet_services.command_issue(
            user=user, device=device, kind="start_program",
            params={"program": program.name},
            not_before=request.planned_start, not_after=done_by - duration,
        )  # fmt: skip
        request.save()
    return request


def preferences_set(
    *, user: Any, household: Household, quiet_start: Any, quiet_end: Any
) -> SchedulingPreferences:
    """The household's quiet hours (both None: none), by someone who may control devices."""
    if (
        not Household.objects.restrict(user, Action.CONTROL_DEVICES)
        .filter(pk=household.pk)
        .exists()
    ):
        raise PermissionDenied(_("You may not control this household's devices."))
    if (quiet_start is None) != (quiet_end is None):
        raise ValidationError(_("Give both ends of the quiet hours, or neither."))
    preferences, _created = SchedulingPreferences.objects.update_or_create(
        household=household, defaults={"quiet_start": quiet_start, "quiet_end": quiet_end}
    )
    return preferences


def plan_cancel(*, user: Any, request: PlanRequest) -> None:
    """Cancel a plan not started yet. A box that already holds its command gets a `cancel`
    with its next poll; should it have started the programme meanwhile (offline), the
    plan follows the box's "started" ack and shows as running."""
    _require_control(user, request)
    if request.status != PlanStatus.PLANNED:
        raise ValidationError(_("Only a plan that has not started can be cancelled."))
    if request.command is not None and not fleet_services.command_withdraw(
        user=user, command=request.command
    ):
        raise ValidationError(_("Your box has already started this programme."))
    request.status = PlanStatus.CANCELLED
    request.save(update_fields=["status"])


def plan_start_now(*, user: Any, request: PlanRequest, now: datetime) -> PlanRequest:
    """The household overrides the plan: the programme starts at once (its planned command
    is withdrawn from the box, and a start for now is sent)."""
    _require_control(user, request)
    if request.status != PlanStatus.PLANNED:
        raise ValidationError(_("Only a plan that has not started can be started now."))
    program = request.program
    with transaction.atomic():
        if request.command is not None and not fleet_services.command_withdraw(
            user=user, command=request.command
        ):
            raise ValidationError(_("Your box has already started this programme."))
        request.command = fleet_services.command_issue(
            user=user, device=program.device, kind="start_program",
            params={"program": program.name}, not_before=None,
            not_after=now + timedelta(hours=1),
        )  # fmt: skip
        request.planned_start = now
        request.expected_cost = request.cost_if_now
        request.save(update_fields=["command", "planned_start", "expected_cost"])
    return request


def plans_due_refresh(*, now: datetime, within: timedelta) -> int:
    """Re-plan, with the newest intraday forecasts, the plans starting within `within`."""
    households = (
        PlanRequest.objects.filter(
            status=PlanStatus.PLANNED,
            planned_start__gt=now + LEAD,
            planned_start__lt=now + within,
        )
        .values_list("household_id", flat=True)
        .distinct()
    )
    moved = 0
    for household in Household.objects.filter(pk__in=list(households)).select_related("tenant"):
        try:
            moved += plans_refresh(household=household, now=now)
        except Exception:  # one household's bad data must not stop the others
            log.exception("re-planning household %s failed", household.pk)
    return moved


FOLLOWS = {
    "started": PlanStatus.STARTED,
    "done": PlanStatus.DONE,
    "failed": PlanStatus.FAILED,
    "expired": PlanStatus.FAILED,
}


def plan_follow_command(*, command: Any) -> None:
    """A plan follows its command's acknowledgements from the box. A cancelled plan stays
    cancelled when its command expires, but shows what the box did if it ran after all."""
    status = FOLLOWS.get(command.status)
    if status is None:
        return
    plans = PlanRequest.objects.filter(command=command).exclude(status=status)
    if status == PlanStatus.FAILED:
        plans = plans.exclude(status=PlanStatus.CANCELLED)
    plans.update(status=status)


# Re-planning ----------------------------------------------------------------------------

MOVE_MIN_SAVING = 0.01  # a plan moves only for at least a cent (no churn on rounding)
LEAD = timedelta(minutes=15)  # a plan starting sooner than this stays as it is


def plans_refresh(*, household: Household, now: datetime) -> int:
    """Re-plan the household's plans not started yet with the newest prices and forecasts;
    a plan that would now cost less elsewhere moves (its box command is replaced).
    Returns how many moved."""
    moved = 0
    waiting = PlanRequest.objects.filter(
        household=household, status=PlanStatus.PLANNED, planned_start__gt=now + LEAD
    ).select_related("program__device", "command", "requested_by")
    for request in waiting:
        moved += _replan(request, now)
    return moved


def _replan(request: PlanRequest, now: datetime) -> int:
    program = request.program
    start = ceil_quarter(max(now, request.earliest_start))
    try:
        context = planning_context(household=request.household, start=start, end=request.done_by)
    except (NoTariff, MissingPrice):
        return 0  # keep the plan made with the prices known then
    others = [p for p in context.planned if p.pk != request.pk]
    context = Context(context.household, context.start, context.end, context.slots, others)
    moving = PlanRequest(
        household=request.household, program=program, earliest_start=start,
        done_by=request.done_by,
    )  # fmt: skip
    result = opt.solve(_problem(context, program, moving))
    if isinstance(result, opt.Infeasible):
        return 0
    _record_plan(moving, result, context, program)
    assert request.expected_cost is not None and moving.expected_cost is not None
    if (
        moving.planned_start == request.planned_start
        or float(request.expected_cost - moving.expected_cost) < MOVE_MIN_SAVING
    ):
        return 0
    with transaction.atomic():
        user = request.requested_by
        if request.command is not None and not fleet_services.command_withdraw(
            user=user, command=request.command
        ):
            return 0  # the box started it meanwhile
        duration = QUARTER * len(program.profile_w)
        request.planned_start = moving.planned_start
        request.expected_cost = moving.expected_cost
        request.command = fleet_services.command_issue(
            user=user, device=program.device, kind="start_program",
            params={"program": program.name},
            not_before=moving.planned_start, not_after=request.done_by - duration,
        )  # fmt: skip
        request.save(update_fields=["planned_start", "expected_cost", "command"])
    return 1


def planning_run(*, day: Any, chunk: list[str], now: datetime) -> PlanningRun:
    """Re-plan a chunk of the fleet's households for `day`'s run; safe to run twice."""
    from apps.scheduling.daily import daily_plan  # daily builds on this module

    run, _ = PlanningRun.objects.get_or_create(day=day)
    for household in Household.objects.filter(pk__in=chunk).select_related("tenant"):
        try:
            moved = plans_refresh(household=household, now=now)
            daily_plan(household=household, day=day, now=now)  # EV, water heater, battery
            PlanningRun.objects.filter(pk=run.pk).update(
                households_done=F("households_done") + 1, plans_moved=F("plans_moved") + moved
            )
        except Exception:  # one household's bad data must not stop the fleet's night
            log.exception("re-planning household %s failed", household.pk)
            PlanningRun.objects.filter(pk=run.pk).update(
                households_done=F("households_done") + 1, failures=F("failures") + 1
            )
    run.refresh_from_db()
    if run.households_done >= run.households_total and run.finished_at is None:
        PlanningRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(finished_at=now)
        run.refresh_from_db()
    return run


def planning_run_start(*, day: Any, chunk_size: int) -> tuple[PlanningRun, list[list[str]]]:
    """The day's run and its chunks: the households with plans still to start, or with an
    active EV charging, water heater or battery rule (their day-ahead plan)."""
    waiting = PlanRequest.objects.filter(status=PlanStatus.PLANNED).values_list("household_id")
    with_rules = Household.objects.filter(
        Q(pk__in=waiting)
        | Q(pk__in=EvChargingRule.objects.active().values("household_id"))
        | Q(pk__in=WaterHeaterRule.objects.active().values("household_id"))
        | Q(pk__in=BatteryRule.objects.active().values("household_id"))
    )
    ids = [str(pk) for pk in with_rules.order_by("pk").values_list("pk", flat=True)]
    run, created = PlanningRun.objects.get_or_create(day=day)
    if created or run.finished_at is not None:
        # A new run, or the day's run re-triggered: count afresh (idempotent re-planning).
        run.households_total, run.households_done = len(ids), 0
        run.plans_moved = run.failures = 0
        run.finished_at = None if ids else timezone.now()
        run.save()
    chunks = [ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size)]
    return run, chunks


# Building the problem -------------------------------------------------------------------


def planning_context(*, household: Household, start: datetime, end: datetime) -> Context:
    """Prices, forecasts and the plans already made for [start, end)."""
    prices = price_slots(household=household, start=start, end=end)
    pv = _forecast_kw(household, "pv", start, end)
    base = _forecast_kw(household, "load", start, end) or {}
    fallback_kw = _recent_base_load_kw(household, start)
    slots = [
        opt.Slot(
            start=p.start,
            import_price=float(p.import_price),
            export_price=float(p.export_price),
            pv_kw=pv.get(p.start, 0.0) if pv else 0.0,
            base_load_kw=base.get(p.start, fallback_kw),
            duration_h=(p.end - p.start).total_seconds() / 3600,
        )
        for p in prices
    ]
    planned = list(
        PlanRequest.objects.active()
        .filter(household=household, planned_start__lt=end)
        .select_related("program")
    )
    return Context(household, start, end, slots, planned)


def _context_with_known_prices(
    household: Household, start: datetime, end: datetime, duration: timedelta
) -> Context:
    """The context up to `end`, or up to the first unpublished price if the programme still
    fits before it (MissingPrice otherwise: never a guessed price)."""
    try:
        return planning_context(household=household, start=start, end=end)
    except MissingPrice as error:
        known_until = error.slot_start
        if known_until is None or known_until - start < duration:
            raise
        return planning_context(household=household, start=start, end=known_until)


def _problem(context: Context, program: ApplianceProgram, request: PlanRequest) -> opt.Problem:
    """The MILP: the asked programme over the slots, the planned ones as fixed loads."""
    slots = with_planned_loads(context.slots, context.planned)
    limit = context.household.supply_limit()
    appliance = opt.Appliance(
        name=str(program.device),
        profile_kw=[w / 1000 for w in program.profile_w],
        earliest_start=request.earliest_start,
        latest_end=min(request.done_by, context.end),
        quiet_hours=_quiet_hours(context.household),
    )
    return opt.Problem(
        slots=slots,
        limit_kw=WARN_AT * limit.limit_va / 1000,
        appliances=[appliance],
        timezone=context.household.timezone,
    )


def with_planned_loads(slots: list[opt.Slot], planned: list[PlanRequest]) -> list[opt.Slot]:
    """Programmes already planned add their profile to the base load of their quarters."""
    extra: dict[datetime, float] = {}
    for request in planned:
        assert request.planned_start is not None
        for offset, watts in enumerate(request.program.profile_w):
            moment = request.planned_start + offset * QUARTER
            extra[moment] = extra.get(moment, 0.0) + watts / 1000
    return with_extra_load(slots, extra)


def with_extra_load(slots: list[opt.Slot], extra: dict[datetime, float]) -> list[opt.Slot]:
    """The slots with `extra` kW added to the base load of the quarters it names."""
    if not extra:
        return slots
    return [
        opt.Slot(
            start=s.start, import_price=s.import_price, export_price=s.export_price,
            pv_kw=s.pv_kw, base_load_kw=s.base_load_kw + extra.get(s.start, 0.0),
            duration_h=s.duration_h,
        )
        for s in slots
    ]  # fmt: skip


def _forecast_kw(household: Household, kind: str, start: datetime, end: datetime) -> dict:
    """The newest forecast per quarter (intraday over day-ahead), in kW."""
    values: dict[datetime, float] = {}
    for horizon in ("day_ahead", "intraday"):
        for moment, wh in forecasts.forecast_series(
            household_id=household.pk, kind=kind, start=start, end=end, horizon=horizon
        ):
            values[moment] = wh / 1000 / 0.25
    return values


def _recent_base_load_kw(household: Household, now: datetime) -> float:
    """Where no load forecast is issued yet: the last week's average base load."""
    _, values = forecasts.load_measured(household=household, start=now - BASE_LOAD_HISTORY, end=now)
    if len(values) == 0:
        return 0.0
    return float(values.mean()) / 1000 / 0.25


def _quiet_hours(household: Household) -> list[opt.TimeOfDayRange]:
    preferences = SchedulingPreferences.objects.filter(household=household).first()
    if preferences is None or preferences.quiet_start is None or preferences.quiet_end is None:
        return []
    return [opt.TimeOfDayRange(preferences.quiet_start, preferences.quiet_end)]


# Recording the result -------------------------------------------------------------------


def _record_plan(
    request: PlanRequest, plan: opt.Plan, context: Context, program: ApplianceProgram
) -> None:
    run = plan.appliances[str(program.device)]
    without = _cost_without_appliance(context)
    request.status = PlanStatus.PLANNED
    request.planned_start = run.start
    request.expected_cost = money_rounded(plan.total_cost - without)
    request.cost_if_now = money_rounded(plan.baseline_cost - without)


def _record_infeasible(
    request: PlanRequest, result: opt.Infeasible, program: ApplianceProgram
) -> None:
    request.status = PlanStatus.INFEASIBLE
    request.reasons = list(result.reasons)
    nearest = result.nearest.appliances.get(str(program.device))
    request.planned_start = nearest.start if nearest else None  # the nearest plan's proposal
    request.save()


def _cost_without_appliance(context: Context) -> float:
    """The same quarters with the other loads only: the programme's cost is the difference."""
    slots = with_planned_loads(context.slots, context.planned)
    imports = [max(s.base_load_kw - s.pv_kw, 0.0) for s in slots]
    exports = [max(s.pv_kw - s.base_load_kw, 0.0) for s in slots]
    problem = opt.Problem(slots=slots, limit_kw=1e6, timezone=context.household.timezone)
    return opt.evaluate_costs(problem, imports, exports).total


def money_rounded(value: float) -> Decimal:
    return Decimal(str(value)).quantize(MONEY)


# Checks ---------------------------------------------------------------------------------


def ceil_quarter(moment: datetime) -> datetime:
    seconds = moment.timestamp()
    return datetime.fromtimestamp(math.ceil(seconds / 900) * 900, tz=moment.tzinfo)


def _check_window(start: datetime, done_by: datetime, duration: timedelta) -> None:
    if done_by - start > MAX_HORIZON:
        raise ValidationError({"done_by": _("Plan at most 48 hours ahead.")})
    if done_by - start < duration:
        raise ValidationError(
            {"done_by": _("The programme takes %(minutes)d minutes: choose a later time.")
             % {"minutes": duration.total_seconds() // 60}}
        )  # fmt: skip


def _require_control(user: Any, request: PlanRequest) -> None:
    allowed = PlanRequest.objects.restrict(user, Action.CONTROL_DEVICES).filter(pk=request.pk)
    if not allowed.exists():
        raise PermissionDenied(_("You may not control this device."))


def price_reason(error: Exception) -> str:
    if isinstance(error, MissingPrice):
        return _(
            "The prices for part of this period are not published yet (%(detail)s). "
            "Choose an earlier time, or plan again once they are."
        ) % {"detail": error}
    return _("This household has no tariff for this period.")
