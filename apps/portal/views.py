import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts.mfa import step_up_required
from apps.core.permissions import HOUSEHOLD_ROLES, Action, Role
from apps.devices.models import Device
from apps.devices.selectors import device_list
from apps.energy import periods
from apps.energy.reports import BAR_RESOLUTION, Period, energy_report, next_day, previous_day
from apps.energy.selectors import period_bounds
from apps.fleet import services as fleet_services
from apps.fleet.models import CommandStatus, Gateway, MeterPairing, PairingStatus
from apps.fleet.selectors import gateway_list
from apps.households import selectors, services
from apps.households.models import Household
from apps.insights import emails as insight_emails
from apps.insights import pdf as insight_pdf
from apps.insights import reports as insight_reports
from apps.insights import selectors as insight_selectors
from apps.insights import services as insight_services
from apps.insights import tips as insight_tips
from apps.insights.comparison import compare
from apps.insights.models import TipState
from apps.live import selectors as live_selectors
from apps.live import services as live_services
from apps.live.messages import notification_text
from apps.portal import energy_view, forecast_view, live_view, planner_view
from apps.portal.forms import (
    AcceptInvitationSignupForm,
    InviteMemberForm,
    PlanForm,
    QuietHoursForm,
)
from apps.privacy.policy import Resolution, consumption_access, finer, finest_for
from apps.scheduling import rules as scheduling_rules
from apps.scheduling import services as scheduling
from apps.scheduling import services as scheduling_services
from apps.scheduling.models import PlanRequest


def _household(request: HttpRequest, household_id: Any, action: Action = Action.VIEW) -> Household:
    try:
        return selectors.household_get(user=request.user, household_id=household_id, action=action)
    except Household.DoesNotExist as error:
        raise Http404 from error


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if user.is_staff_role:
        return redirect("console:home")
    households = list(selectors.household_list(user=user))
    if len(households) == 1:
        return redirect("portal:household", household_id=households[0].pk)
    return render(request, "portal/home.html", {"households": households})


@dataclass
class BoxRow:
    """A gateway of the household with where its meter pairing stands."""

    gateway: Gateway
    pairing: MeterPairing | None  # the open one: requested or approved
    last_rejected: bool  # not paired because the DSO declined the last request


def _box_rows(user: Any, household: Household) -> list[BoxRow]:
    pairings = MeterPairing.objects.restrict(user, Action.VIEW).filter(household=household)
    latest: dict[Any, MeterPairing] = {}
    open_: dict[Any, MeterPairing] = {}
    for pairing in pairings:  # newest first
        latest.setdefault(pairing.gateway_id, pairing)
        if pairing.status in (PairingStatus.REQUESTED, PairingStatus.APPROVED):
            open_.setdefault(pairing.gateway_id, pairing)
    rows = []
    for gateway in gateway_list(user=user).filter(household=household):
        last = latest.get(gateway.pk)
        rows.append(
            BoxRow(
                gateway=gateway,
                pairing=open_.get(gateway.pk),
                last_rejected=last is not None and last.status == PairingStatus.REJECTED,
            )
        )
    return rows


@login_required
def household_detail(request: HttpRequest, household_id: Any) -> HttpResponse:
    household = _household(request, household_id)
    user: Any = request.user
    can = {
        action.value: selectors.household_can(user=user, household=household, action=action)
        for action in (
            Action.VIEW_MEMBERS, Action.MANAGE_MEMBERS, Action.CHANGE, Action.VIEW_CONSUMPTION
        )
    }  # fmt: skip
    context = {
        "household": household,
        "can_view_energy": can["view_consumption"],
        "can_view_live": can["view_consumption"] and _may_read_raw(user, household),
        "can_view_forecast": can["view_consumption"] and _may_read_quarters(user, household),
        "boxes": _box_rows(user, household),
        "can_pair": can["change"],
        "dso_name": household.tenant.dso_name or household.tenant.name,
        "devices": device_list(user=user).filter(household=household),
        "members": selectors.member_list(household=household) if can["view_members"] else None,
        "can_manage_members": can["manage_members"],
        "is_own_home": user.role in HOUSEHOLD_ROLES,
        "invite_form": InviteMemberForm(),
    }
    return render(request, "portal/household.html", context)


@login_required
@require_POST
def member_invite(request: HttpRequest, household_id: Any) -> HttpResponse:
    household = _household(request, household_id)
    form = InviteMemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a valid email address."))
        return redirect("portal:household", household_id=household.pk)
    try:
        services.member_invite(household=household, invited_by=request.user, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % form.cleaned_data)
    return redirect("portal:household", household_id=household.pk)


@login_required
@require_POST
def member_remove(request: HttpRequest, household_id: Any, user_id: int) -> HttpResponse:
    household = _household(request, household_id)
    membership = get_object_or_404(household.memberships, user_id=user_id)
    try:
        services.member_remove(household=household, user=membership.user, removed_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("portal:household", household_id=household.pk)
    messages.success(request, _("Member removed."))
    if membership.user == request.user:
        return redirect("portal:home")
    return redirect("portal:household", household_id=household.pk)


@login_required
@require_POST
def pairing_request(request: HttpRequest, household_id: Any, gateway_id: Any) -> HttpResponse:
    """The owner asks the DSO to let the box read the household's meter."""
    household = _household(request, household_id)
    gateway = get_object_or_404(
        gateway_list(user=request.user).filter(household=household), pk=gateway_id
    )
    try:
        pairing = fleet_services.pairing_request(user=request.user, gateway=gateway)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if pairing.status == PairingStatus.APPROVED:
            messages.success(
                request, _("Your box is paired with meter %(meter)s.") % {"meter": pairing.meter_id}
            )
        else:
            dso = household.tenant.dso_name or household.tenant.name
            messages.success(
                request,
                _("Request sent: waiting for %(dso)s to approve.") % {"dso": dso},
            )
    return redirect("portal:household", household_id=household.pk)


@login_required
@require_POST
def pairing_end(request: HttpRequest, household_id: Any, pairing_id: Any) -> HttpResponse:
    household = _household(request, household_id)
    pairings = MeterPairing.objects.restrict(request.user, Action.VIEW).filter(household=household)
    pairing = get_object_or_404(pairings, pk=pairing_id)
    fleet_services.pairing_end(user=request.user, pairing=pairing)
    messages.success(request, _("Unpaired: your box no longer reads the meter."))
    return redirect("portal:household", household_id=household.pk)


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Joining a household: a new account is created, or a signed-in member accepts."""
    invitation = services.invitation_get_pending(token=token)
    if invitation is None:
        return render(request, "portal/invitation_invalid.html", status=404)
    user: Any = request.user
    form = None
    if user.is_authenticated:
        if request.method == "POST":
            return _accept_as(request, token, user)
    else:
        form = AcceptInvitationSignupForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            new_user = form.save(commit=False)
            new_user.email = invitation.email
            new_user.role = Role.HOUSEHOLD_MEMBER
            new_user.tenant = invitation.household.tenant
            new_user.save()
            login(request, new_user, backend="django.contrib.auth.backends.ModelBackend")
            return _accept_as(request, token, new_user)
    return render(request, "portal/invitation.html", {"invitation": invitation, "form": form})


def _accept_as(request: HttpRequest, token: str, user: Any) -> HttpResponse:
    try:
        membership = services.invitation_accept(token=token, user=user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect("portal:home")
    messages.success(request, _("Welcome to %(name)s.") % {"name": membership.household.name})
    return redirect("portal:household", household_id=membership.household_id)


# Energy ---------------------------------------------------------------------------------

ENERGY_PERIODS = ("day", "week", "month", "year")


def _energy_period(request: HttpRequest) -> tuple[Period, str]:
    period = request.GET.get("period", "month")
    unit = "money" if request.GET.get("unit") == "money" else "kwh"
    return cast(Period, period if period in ENERGY_PERIODS else "month"), unit


def _energy_day(request: HttpRequest, household: Household) -> date:
    try:
        return date.fromisoformat(request.GET.get("date", ""))
    except ValueError:  # no date, or not one: today at home
        return periods.local_date(timezone.now(), ZoneInfo(household.timezone))


@login_required
def household_energy(request: HttpRequest, household_id: Any) -> HttpResponse:
    """A period's energy in kWh or money: bars, flows, devices, and the previous period."""
    period, unit = _energy_period(request)
    # The data-access policy fetches the household: 404 outside its scope, 403 too fine.
    access = consumption_access(
        user=request.user, household_id=household_id,
        resolution=Resolution(BAR_RESOLUTION[period]), what=f"energy page ({period})",
    )  # fmt: skip
    household = access.household
    day = _energy_day(request, household)
    access.covering(*period_bounds(household=household, period=period, containing=day))
    report = energy_report(household=household, period=period, day=day)
    context = energy_view.context(report, unit)
    context |= {
        "household": household,
        "periods": ENERGY_PERIODS,
        "previous_date": previous_day(period, day).isoformat(),
        "next_date": next_day(period, day).isoformat(),
        "can_view_live": _may_read_raw(request.user, household),
        "can_view_forecast": _may_read_quarters(request.user, household),
    }
    return render(request, "portal/energy.html", context)


# Live flows and notifications -----------------------------------------------------------


def _may_read_raw(user: Any, household: Household) -> bool:
    """Whether the live page is for this reader (it shows every reading: raw data)."""
    return finest_for(user, household) == Resolution.RAW


def _may_read_quarters(user: Any, household: Household) -> bool:
    """Whether the forecast page is for this reader (it compares quarter hours)."""
    allowed = finest_for(user, household)
    return allowed is not None and not finer(Resolution.QUARTER, allowed)


def _raw_access(request: HttpRequest, household_id: Any, what: str = "") -> Household:
    """The household if the reader may see its raw consumption: 404 outside its scope, 403
    for a role that needs the household's consent (the live page and overloads are raw)."""
    return consumption_access(
        user=request.user, household_id=household_id, resolution=Resolution.RAW, what=what
    ).household


@login_required
def household_live(request: HttpRequest, household_id: Any) -> HttpResponse:
    """Power flows now, the last 15 minutes, the supply gauge and overload advice."""
    household = _raw_access(request, household_id, what="live page")
    context = live_view.context(household=household, user=request.user, now=timezone.now())
    return render(request, "portal/live.html", context)


@login_required
def notification_list(request: HttpRequest, household_id: Any) -> HttpResponse:
    household = _raw_access(request, household_id, what="notifications")
    notifications = live_selectors.notifications(household_id=household.pk)[:100]
    rows = [(n, *notification_text(n)) for n in notifications]
    context = {
        "household": household,
        "rows": rows,
        "unread": sum(1 for n, _title, _body in rows if n.read_at is None),
    }
    return render(request, "portal/notifications.html", context)


@login_required
@require_POST
def notifications_mark_read(request: HttpRequest, household_id: Any) -> HttpResponse:
    household = _raw_access(request, household_id, what="notifications")
    count = live_services.notification_mark_read(
        notifications=live_selectors.notifications(household_id=household.pk), now=timezone.now()
    )
    if count:
        messages.success(request, _("All notifications marked as read."))
    return redirect("portal:notifications", household_id=household.pk)


# Appliance planner ----------------------------------------------------------------------


def _plan_form(request: HttpRequest, household: Household, data: Any = None) -> PlanForm | None:
    """The planning form, or None for a reader who may not start the household's devices."""
    if not planner_view.may_control(user=request.user, household=household):
        return None
    zone = ZoneInfo(household.timezone)
    programs = planner_view.program_choices(user=request.user, household=household)
    initial = {"done_by": planner_view.default_done_by(timezone.now(), zone)}
    return PlanForm(data, programs=programs, zone=zone, initial=initial)


def _planner_page(
    request: HttpRequest, household: Household, *, form: PlanForm | None, quiet_form: Any = None,
    rule_forms: dict[Any, Any] | None = None, status: int = 200,
) -> HttpResponse:  # fmt: skip
    try:
        result_id = uuid.UUID(request.GET.get("plan", ""))
    except ValueError:
        result_id = None
    context = planner_view.context(
        user=request.user, household=household, now=timezone.now(), result_id=result_id
    )
    if form is not None and quiet_form is None:
        preferences = context["preferences"]
        quiet_form = QuietHoursForm(
            initial={
                "quiet_start": preferences.quiet_start if preferences else None,
                "quiet_end": preferences.quiet_end if preferences else None,
            }
        )
    context |= {
        "form": form, "quiet_form": quiet_form, "can_control": form is not None,
        "load_sections": planner_view.load_sections(planner_view.load_cards(
            user=request.user, household=household, now=timezone.now(),
            can_control=form is not None, forms=rule_forms,
        )),
    }  # fmt: skip
    return render(request, "portal/planner.html", context, status=status)


def _add_service_errors(form: Any, error: ValidationError) -> None:
    """The planner's refusal on the form: under the field it names, else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
@step_up_required  # POST plans an appliance: a recent TOTP code (apps.accounts.mfa)
def household_planner(request: HttpRequest, household_id: Any) -> HttpResponse:
    """Plan an appliance to finish by a time at the least cost; the household's plans."""
    household = _household(request, household_id)
    if request.method != "POST":
        return _planner_page(request, household, form=_plan_form(request, household))
    form = _plan_form(request, household, request.POST)
    if form is None:
        raise PermissionDenied(_("You may not control this household's devices."))
    if form.is_valid():
        try:
            plan = scheduling.plan_appliance(
                user=request.user, program=form.cleaned_data["program"],
                done_by=form.cleaned_data["done_by"], now=timezone.now(),
                earliest_start=form.cleaned_data["earliest_start"],
            )  # fmt: skip
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            url = reverse("portal:planner", kwargs={"household_id": household.pk})
            return redirect(f"{url}?plan={plan.pk}")
    return _planner_page(request, household, form=form, status=400)


def _plan(request: HttpRequest, household: Household, plan_id: Any) -> PlanRequest:
    """One of the household's plans the reader may see (404 otherwise)."""
    plans = PlanRequest.objects.restrict(request.user, Action.VIEW).filter(household=household)
    return get_object_or_404(plans, pk=plan_id)


@login_required
@require_POST
@step_up_required
def plan_cancel(request: HttpRequest, household_id: Any, plan_id: Any) -> HttpResponse:
    household = _household(request, household_id)
    plan = _plan(request, household, plan_id)
    try:
        scheduling.plan_cancel(user=request.user, request=plan)  # PermissionDenied: a 403
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if plan.command is not None:  # withdrawn at once, or a `cancel` for the box?
            plan.command.refresh_from_db(fields=["status"])
        withdrawn = plan.command is None or plan.command.status == CommandStatus.EXPIRED
        messages.success(
            request,
            _("Plan cancelled: the appliance will not be started.")
            if withdrawn
            else _("Plan cancelled: your box is told at its next contact."),
        )
    return redirect("portal:planner", household_id=household.pk)


@login_required
@require_POST
@step_up_required
def plan_start_now(request: HttpRequest, household_id: Any, plan_id: Any) -> HttpResponse:
    """The household overrides the plan: start the programme at once."""
    household = _household(request, household_id)
    plan = _plan(request, household, plan_id)
    try:
        scheduling.plan_start_now(user=request.user, request=plan, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Starting now: your box starts the appliance at once."))
    return redirect("portal:planner", household_id=household.pk)


@login_required
@require_POST
@step_up_required
def planner_quiet_hours(request: HttpRequest, household_id: Any) -> HttpResponse:
    household = _household(request, household_id)
    if not planner_view.may_control(user=request.user, household=household):
        raise PermissionDenied(_("You may not control this household's devices."))
    form = QuietHoursForm(request.POST)
    if not form.is_valid():
        return _planner_page(
            request, household, form=_plan_form(request, household), quiet_form=form, status=400
        )
    scheduling_services.preferences_set(user=request.user, household=household, **form.cleaned_data)
    if form.cleaned_data["quiet_start"] is None:
        messages.success(request, _("No quiet hours: appliances may run at any time."))
    else:
        messages.success(
            request,
            _("Quiet hours saved: no appliance runs from %(start)s to %(end)s.")
            % {
                "start": form.cleaned_data["quiet_start"].strftime("%H:%M"),
                "end": form.cleaned_data["quiet_end"].strftime("%H:%M"),
            },
        )
    return redirect("portal:planner", household_id=household.pk)


def _rule_device(request: HttpRequest, household: Household, device_id: Any) -> Device:
    """The household's device (404 outside the reader's scope), if they may control it."""
    device = get_object_or_404(
        device_list(user=request.user).filter(household=household), pk=device_id
    )
    if not planner_view.may_control(user=request.user, household=household):
        raise PermissionDenied(_("You may not control this household's devices."))
    return device


def _planner_at(household: Household, device: Device) -> str:
    url = reverse("portal:planner", kwargs={"household_id": household.pk})
    return f"{url}#load-{device.pk}"


@login_required
@require_POST
@step_up_required
def planner_rule(request: HttpRequest, household_id: Any, device_id: Any) -> HttpResponse:
    """Add or change the night charging / hot water / home battery rule of a device;
    re-planned at once."""
    household = _household(request, household_id)
    device = _rule_device(request, household, device_id)
    rule = scheduling_rules.rule_get(device=device)
    form = planner_view.rule_form(device, rule, request.POST)
    if form is None:  # not an EV charger nor a water heater: no form on the page for it
        messages.error(
            request, _("Only an EV charger, a water heater or a home battery takes a rule.")
        )
        return _planner_page(request, household, form=_plan_form(request, household), status=400)
    if form.is_valid():
        now = timezone.now()
        try:
            if rule is None:
                rule = scheduling_rules.rule_create(
                    user=request.user, device=device, now=now, **form.cleaned_data
                )
            else:
                rule = scheduling_rules.rule_update(
                    user=request.user, rule=rule, now=now, **form.cleaned_data
                )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            values = {"device": device.name}
            if rule.active:
                messages.success(
                    request, _("Rule saved for %(device)s: planned again at once.") % values
                )
            else:
                messages.success(
                    request,
                    _("%(device)s is no longer planned: its waiting commands are withdrawn.")
                    % values,
                )
            return redirect(_planner_at(household, device))
    return _planner_page(
        request, household, form=_plan_form(request, household),
        rule_forms={device.pk: form}, status=400,
    )  # fmt: skip


@login_required
@require_POST
@step_up_required
def planner_rule_delete(request: HttpRequest, household_id: Any, device_id: Any) -> HttpResponse:
    household = _household(request, household_id)
    device = _rule_device(request, household, device_id)
    rule = scheduling_rules.rule_get(device=device)
    if rule is None:
        raise Http404
    scheduling_rules.rule_delete(user=request.user, rule=rule, now=timezone.now())
    messages.success(
        request,
        _("Rule deleted: %(device)s is no longer planned.") % {"device": device.name},
    )
    return redirect(_planner_at(household, device))


# Forecasts ------------------------------------------------------------------------------


@login_required
def household_forecast(request: HttpRequest, household_id: Any) -> HttpResponse:
    """A day's PV and load forecasts against what was measured, and how good they were."""
    # Quarter-hour data: 404 outside the reader's scope, 403 for a role allowed coarser only.
    access = consumption_access(
        user=request.user, household_id=household_id, resolution=Resolution.QUARTER,
        what="forecast page",
    )  # fmt: skip
    household = access.household
    zone = ZoneInfo(household.timezone)
    now = timezone.now()
    today = periods.local_date(now, zone)
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:  # no date, or not one: yesterday, the last complete day
        day = today - timedelta(days=1)
    access.covering(*_local_days(household, day, day))
    context = forecast_view.context(user=request.user, household=household, day=day, now=now)
    return render(request, "portal/forecast.html", context)


# Reports --------------------------------------------------------------------------------


def _local_days(household: Household, first: date, last: date) -> tuple[datetime, datetime]:
    """The instants a run of the household's local days starts and ends."""
    zone = ZoneInfo(household.timezone)
    return (
        datetime.combine(first, time(), zone),
        datetime.combine(last + timedelta(days=1), time(), zone),
    )


def _report_periods() -> list[tuple[str, str]]:
    return [("day", _("Day")), ("week", _("Week")), ("month", _("Month"))]


@login_required
def household_reports(request: HttpRequest, household_id: Any) -> HttpResponse:
    """The reports' entry: this month's report so far, in the household's calendar."""
    household = consumption_access(
        user=request.user, household_id=household_id, resolution=Resolution.DAY
    ).household
    today = periods.local_date(timezone.now(), ZoneInfo(household.timezone))
    return redirect("portal:report", household_id=household.pk, period="month", day=today)


@login_required
@require_POST
def report_subscription(request: HttpRequest, household_id: Any) -> HttpResponse:
    """The reader's explicit choice of e-mailed reports (each frequency ticked on its own)."""
    household = consumption_access(
        user=request.user, household_id=household_id, resolution=Resolution.DAY
    ).household
    chosen = {f: request.POST.get(f) == "on" for f in ("daily", "weekly", "monthly")}
    try:
        insight_services.subscription_set(
            household=household, user=request.user,
            daily=chosen["daily"], weekly=chosen["weekly"], monthly=chosen["monthly"],
        )  # fmt: skip
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Your report e-mails are saved.")
            if any(chosen.values())
            else _("You will receive no report e-mails."),
        )
    return redirect("portal:reports", household_id=household.pk)


@login_required
def household_report(
    request: HttpRequest, household_id: Any, period: str, day: str
) -> HttpResponse:
    """A day's, week's or month's report; `?format=csv` or `?format=pdf` to download it.

    Its figures are per period (a day at the finest), so the policy is asked for daily
    data; the peak quarter and the overloads show only to readers allowed that fine.
    """
    if period not in insight_reports.REPORT_PERIODS:
        raise Http404
    try:
        when = date.fromisoformat(day)
    except ValueError as error:
        raise Http404 from error
    if not 2000 <= when.year <= 2100:
        raise Http404
    household = consumption_access(
        user=request.user, household_id=household_id, resolution=Resolution.DAY
    ).household
    report = insight_reports.report_build(
        household=household, period=cast(insight_reports.ReportPeriodName, period), day=when
    )
    allowed = finest_for(request.user, household)
    show_peak = allowed is not None and not finer(Resolution.QUARTER, allowed)
    if show_peak:  # the peak quarter is a 15-minute figure: its read goes to the log
        consumption_access(
            user=request.user, household_id=household.pk, resolution=Resolution.QUARTER,
            what=f"report {period} peak quarter",
        ).covering(*_local_days(household, report.first_day, report.last_day))  # fmt: skip
    context = insight_emails.report_context(report) | {
        "show_peak": show_peak,
        "show_overloads": allowed == Resolution.RAW,
        "periods": _report_periods(),
        "previous_date": insight_reports.previous_period(report.period, when).isoformat(),
        "next_date": next_day(report.period, report.first_day).isoformat(),
        "subscription": insight_selectors.subscription_of(household=household, user=request.user),
    }
    name = f"report-{period}-{report.first_day.isoformat()}"
    if request.GET.get("format") == "csv":
        response = HttpResponse(
            insight_reports.report_csv(report), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if request.GET.get("format") == "pdf":
        response = HttpResponse(insight_pdf.report_pdf(context), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response
    return render(request, "insights/report.html", context)


# Insights: comparison and coaching tips ----------------------------------------------------


@login_required
def household_insights(request: HttpRequest, household_id: Any) -> HttpResponse:
    """Last full month against similar households, and the coaching tips with what the
    household did with them. Monthly and daily figures only: the policy is asked for DAY."""
    household = consumption_access(
        user=request.user, household_id=household_id, resolution=Resolution.DAY
    ).household
    can_change = insight_selectors.tips_may_change(user=request.user, household=household)
    if request.method == "POST":  # "look for tips now": only those who can act on them
        if not can_change:
            raise PermissionDenied
        insight_services.tips_refresh(household=household)
        return redirect("portal:insights", household_id=household.pk)
    # A GET only reads the stored tips: the daily task computes them.
    today = periods.local_date(timezone.now(), ZoneInfo(household.timezone))
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    comparison = compare(household, month)
    context = {
        "household": household,
        "month": month,
        "comparison": comparison,
        "comparison_text": insight_emails.percentile_text(comparison),
        "can_change": can_change,
    } | insight_tips.tips_context(household)
    return render(request, "insights/insights.html", context)


def _tip_action(request: HttpRequest, household_id: Any, service: Any, done: bool) -> HttpResponse:
    household = _household(request, household_id)
    kind = request.POST.get("kind", "")
    try:  # PermissionDenied (staff, members without control): a 403
        service(user=request.user, household=household, kind=kind)
    except TipState.DoesNotExist as error:
        raise Http404 from error
    messages.success(
        request,
        _("Well done: this habit now counts in your reports.") if done else _("Tip dismissed."),
    )
    return redirect("portal:insights", household_id=household.pk)


@login_required
@require_POST
def tip_dismiss(request: HttpRequest, household_id: Any) -> HttpResponse:
    return _tip_action(request, household_id, insight_services.tip_dismiss, done=False)


@login_required
@require_POST
def tip_done(request: HttpRequest, household_id: Any) -> HttpResponse:
    return _tip_action(request, household_id, insight_services.tip_done, done=True)
