from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from apps.console.forms import (
    AssignInstallerForm,
    GatewayClaimForm,
    PairingApproveForm,
    PairingRequestForm,
)
from apps.core.permissions import Action, Scope, is_staff_role, scope_for
from apps.devices.selectors import device_list
from apps.fleet import services as fleet_services
from apps.fleet.models import (
    Gateway,
    GatewayAlarm,
    GatewayCommand,
    GatewayCredential,
    MeterPairing,
    PairingStatus,
)
from apps.fleet.selectors import gateway_list
from apps.households import selectors, services
from apps.households.models import Household
from apps.scheduling import selectors as scheduling_selectors
from apps.tenants.selectors import tenant_list

View = Callable[..., HttpResponse]

RECENT_COMMANDS = 20
# Who may ask for a pairing or claim a box for a household (what the fleet services check).
HOUSEHOLD_INSTALL_ACTIONS = (Action.INSTALL, Action.CHANGE)


def staff_required(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_staff_role(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _household_ids_can(user: Any, actions: Iterable[Action], household_ids: set[Any]) -> set[Any]:
    """Of these households, those where `user` may do any of `actions` (one query per action)."""
    allowed: set[Any] = set()
    ids = {pk for pk in household_ids if pk is not None}
    for action in actions:
        if ids - allowed:
            allowed |= set(
                Household.objects.restrict(user, action)
                .filter(pk__in=ids - allowed)
                .values_list("pk", flat=True)
            )
    return allowed


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Back to the page the form was on (only a local one), else `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


# Home and households --------------------------------------------------------------------


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    tenants = tenant_list(user=user).annotate(
        household_count=Count("households", distinct=True),
        gateway_count=Count("gateways", distinct=True),
    )
    households = selectors.household_list(user=user)
    gateways = gateway_list(user=user)
    can_approve = scope_for(user, Action.APPROVE_PAIRING) is not Scope.NONE
    context = {
        "tenants": tenants,
        "household_count": households.count(),
        "gateway_count": gateways.count(),
        "gateways_3g": gateways.filter(connectivity="3g").count(),
        "gateways_unclaimed": gateways.filter(household__isnull=True).count(),
        "open_alarm_count": GatewayAlarm.objects.restrict(user, Action.VIEW)
        .filter(acknowledged_at__isnull=True)
        .count(),
        "can_approve_pairings": can_approve,
        "pending_pairing_count": MeterPairing.objects.restrict(user, Action.APPROVE_PAIRING)
        .filter(status=PairingStatus.REQUESTED)
        .count()
        if can_approve
        else None,
    }
    context["sees_fleet_planning"] = scope_for(user, Action.VIEW) is Scope.ALL
    return render(request, "console/home.html", context)


@staff_required
def planning_runs(request: HttpRequest) -> HttpResponse:
    """The nightly fleet re-planning: progress, plans moved, failures."""
    if scope_for(request.user, Action.VIEW) is not Scope.ALL:
        raise PermissionDenied
    runs = scheduling_selectors.planning_runs(user=request.user)
    return render(request, "console/planning.html", {"runs": runs})


@staff_required
def household_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    households = selectors.household_list(user=request.user)
    if query:
        households = households.filter(
            Q(name__icontains=query) | Q(postcode__icontains=query) | Q(meter_point_id=query)
        )
    page = Paginator(households, 50).get_page(request.GET.get("page"))
    return render(request, "console/households.html", {"page": page, "q": query})


def _household(request: HttpRequest, household_id: Any) -> Household:
    try:
        return selectors.household_get(user=request.user, household_id=household_id)
    except Household.DoesNotExist as error:
        raise Http404 from error


@dataclass
class HouseholdGatewayRow:
    gateway: Gateway
    pairing: MeterPairing | None  # the open one (requested or approved)
    request_form: PairingRequestForm | None  # when the user may ask for a pairing


def _household_context(
    request: HttpRequest, household: Household, claim_form: GatewayClaimForm | None = None
) -> dict[str, Any]:
    user = request.user
    can_assign = selectors.household_can(
        user=user, household=household, action=Action.ASSIGN_INSTALLER
    )
    can_install = bool(_household_ids_can(user, HOUSEHOLD_INSTALL_ACTIONS, {household.pk}))
    gateways = list(gateway_list(user=user).filter(household=household))
    open_pairings = {
        pairing.gateway_id: pairing
        for pairing in MeterPairing.objects.restrict(user, Action.VIEW)
        .filter(household=household)
        .open()
    }
    rows = [
        HouseholdGatewayRow(
            gateway=gateway,
            pairing=open_pairings.get(gateway.pk),
            request_form=PairingRequestForm(auto_id=f"id_%s_{gateway.pk.hex[:8]}")
            if can_install and gateway.pk not in open_pairings
            else None,
        )
        for gateway in gateways
    ]
    return {
        "household": household,
        "gateway_rows": rows,
        "devices": device_list(user=user).filter(household=household),
        "can_assign": can_assign,
        "assignments": selectors.installer_assignment_list(household=household)
        if can_assign
        else None,
        "assign_form": AssignInstallerForm(tenant_id=household.tenant_id) if can_assign else None,
        "can_install": can_install,
        "claim_form": (claim_form or GatewayClaimForm()) if can_install else None,
    }


@staff_required
def household_detail(request: HttpRequest, household_id: Any) -> HttpResponse:
    household = _household(request, household_id)
    return render(request, "console/household.html", _household_context(request, household))


@staff_required
@require_POST
def installer_assign(request: HttpRequest, household_id: Any) -> HttpResponse:
    household = _household(request, household_id)
    form = AssignInstallerForm(request.POST, tenant_id=household.tenant_id)
    if not form.is_valid():
        messages.error(request, _("Choose an installer and a number of days."))
        return redirect("console:household", household_id=household.pk)
    try:
        services.installer_assign(
            household=household,
            installer=form.cleaned_data["installer"],
            assigned_by=request.user,
            days=form.cleaned_data["days"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Installer assigned."))
    return redirect("console:household", household_id=household.pk)


@staff_required
@require_POST
def gateway_claim(request: HttpRequest, household_id: Any) -> HttpResponse:
    """The serial and claim code on the box's label bind it to this household."""
    household = _household(request, household_id)
    if not _household_ids_can(request.user, HOUSEHOLD_INSTALL_ACTIONS, {household.pk}):
        raise PermissionDenied
    form = GatewayClaimForm(request.POST)
    if form.is_valid():
        try:
            gateway = fleet_services.gateway_claim(
                user=request.user,
                household=household,
                serial=form.cleaned_data["serial"],
                claim_code=form.cleaned_data["claim_code"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            hours = settings.GATEWAY_CLAIM_WINDOW_HOURS
            messages.success(
                request,
                ngettext(
                    "Claimed %(serial)s: the box fetches its key within %(hours)d hour.",
                    "Claimed %(serial)s: the box fetches its key within %(hours)d hours.",
                    hours,
                )
                % {"serial": gateway.serial, "hours": hours},
            )
            return redirect("console:household", household_id=household.pk)
    context = _household_context(request, household, claim_form=form)
    return render(request, "console/household.html", context)


# Gateways -------------------------------------------------------------------------------


@staff_required
def gateway_fleet(request: HttpRequest) -> HttpResponse:
    gateways = gateway_list(user=request.user)
    connectivity = request.GET.get("connectivity", "")
    if connectivity:
        gateways = gateways.filter(connectivity=connectivity)
    page = Paginator(gateways, 50).get_page(request.GET.get("page"))
    return render(request, "console/gateways.html", {"page": page, "connectivity": connectivity})


def _gateway(request: HttpRequest, gateway_id: Any) -> Gateway:
    return get_object_or_404(gateway_list(user=request.user), pk=gateway_id)


@dataclass
class CredentialRow:
    credential: GatewayCredential
    state: str
    can_revoke: bool


def _credential_state(credential: GatewayCredential, now: Any) -> str:
    if credential.revoked_at is not None:
        return _("revoked")
    if credential.valid_until is not None and credential.valid_until <= now:
        return _("expired")
    if credential.valid_from > now:
        return _("not yet valid")
    if credential.delivered_at is None:
        return _("waiting for the box")
    if credential.valid_until is not None:
        return _("in use, expiring")
    return _("in use")


@dataclass
class PairingRow:
    pairing: MeterPairing
    approve_form: PairingApproveForm | None
    can_end: bool


@staff_required
def gateway_detail(request: HttpRequest, gateway_id: Any) -> HttpResponse:
    user = request.user
    gateway = _gateway(request, gateway_id)
    now = timezone.now()
    can_manage_keys = (
        Gateway.objects.restrict(user, Action.MANAGE_GATEWAY_KEYS).filter(pk=gateway.pk).exists()
    )
    credentials = [
        CredentialRow(
            credential=credential,
            state=_credential_state(credential, now),
            can_revoke=can_manage_keys and credential.revoked_at is None,
        )
        for credential in gateway.credentials.all()
    ]

    pairings = list(
        MeterPairing.objects.restrict(user, Action.VIEW)
        .filter(gateway=gateway)
        .select_related("household", "requested_by", "decided_by")
    )
    household_ids = {pairing.household_id for pairing in pairings} | {gateway.household_id}
    approvers = _household_ids_can(user, (Action.APPROVE_PAIRING,), household_ids)
    installers = _household_ids_can(user, HOUSEHOLD_INSTALL_ACTIONS, household_ids)
    open_statuses = (PairingStatus.REQUESTED, PairingStatus.APPROVED)
    pairing_rows = [
        PairingRow(
            pairing=pairing,
            approve_form=PairingApproveForm(
                initial={"meter_id": pairing.meter_id or gateway.meter_id_seen},
                auto_id=f"id_%s_{pairing.pk.hex[:8]}",
            )
            if pairing.status == PairingStatus.REQUESTED and pairing.household_id in approvers
            else None,
            can_end=pairing.status in open_statuses
            and pairing.household_id in approvers | installers,
        )
        for pairing in pairings
    ]
    can_request_pairing = (
        gateway.household_id in installers and not gateway.pairings.open().exists()
    )

    context = {
        "gateway": gateway,
        "timezone_name": gateway.household.timezone
        if gateway.household
        else gateway.tenant.timezone,
        "can_manage_keys": can_manage_keys,
        "credentials": credentials,
        "pairing_rows": pairing_rows,
        "request_form": PairingRequestForm() if can_request_pairing else None,
        "alarms": GatewayAlarm.objects.restrict(user, Action.VIEW).filter(
            gateway=gateway, acknowledged_at__isnull=True
        ),
        "commands": GatewayCommand.objects.restrict(user, Action.VIEW)
        .filter(gateway=gateway)
        .select_related("device")
        .order_by("-created_at")[:RECENT_COMMANDS],
        "overlap_hours": settings.GATEWAY_KEY_ROTATION_OVERLAP_HOURS,
    }
    return render(request, "console/gateway.html", context)


@staff_required
@require_POST
def gateway_key_rotate(request: HttpRequest, gateway_id: Any) -> HttpResponse:
    gateway = _gateway(request, gateway_id)
    credential = fleet_services.credential_rotate(user=request.user, gateway=gateway)
    hours = settings.GATEWAY_KEY_ROTATION_OVERLAP_HOURS
    messages.success(
        request,
        ngettext(
            "New key %(key_id)s issued: the box receives it on its next heartbeat. "
            "The previous key stays valid for %(hours)d hour.",
            "New key %(key_id)s issued: the box receives it on its next heartbeat. "
            "The previous key stays valid for %(hours)d hours.",
            hours,
        )
        % {"key_id": credential.key_id, "hours": hours},
    )
    return redirect("console:gateway", gateway_id=gateway.pk)


@staff_required
@require_POST
def gateway_key_revoke(request: HttpRequest, gateway_id: Any, credential_id: Any) -> HttpResponse:
    gateway = _gateway(request, gateway_id)
    credential = get_object_or_404(gateway.credentials, pk=credential_id)
    fleet_services.credential_revoke(user=request.user, credential=credential)
    messages.success(
        request,
        _("Key %(key_id)s revoked: the box can no longer sign with it.")
        % {"key_id": credential.key_id},
    )
    if not gateway.credentials.usable().exists():
        messages.warning(
            request, _("The box has no usable key left: rotate the key to issue a new one.")
        )
    return redirect("console:gateway", gateway_id=gateway.pk)


# Meter pairing --------------------------------------------------------------------------


def _pairing(request: HttpRequest, pairing_id: Any) -> MeterPairing:
    pairings = MeterPairing.objects.restrict(request.user, Action.VIEW).select_related(
        "gateway", "household", "household__tenant"
    )
    return get_object_or_404(pairings, pk=pairing_id)


def _require_approver(request: HttpRequest, pairing: MeterPairing) -> None:
    if not _household_ids_can(request.user, (Action.APPROVE_PAIRING,), {pairing.household_id}):
        raise PermissionDenied


def _gateway_url(pairing: MeterPairing) -> str:
    return reverse("console:gateway", kwargs={"gateway_id": pairing.gateway_id})


@dataclass
class QueueRow:
    pairing: MeterPairing
    approve_form: PairingApproveForm


@staff_required
def pairing_queue(request: HttpRequest) -> HttpResponse:
    """Pairings waiting for the DSO's decision, oldest first."""
    user = request.user
    if scope_for(user, Action.APPROVE_PAIRING) is Scope.NONE:
        raise PermissionDenied
    pairings = (
        MeterPairing.objects.restrict(user, Action.APPROVE_PAIRING)
        .filter(status=PairingStatus.REQUESTED)
        .select_related("gateway", "household", "household__tenant", "requested_by")
        .order_by("created_at")
    )
    page = Paginator(pairings, 50).get_page(request.GET.get("page"))
    rows = [
        QueueRow(
            pairing=pairing,
            approve_form=PairingApproveForm(
                initial={"meter_id": pairing.meter_id or pairing.gateway.meter_id_seen},
                auto_id=f"id_%s_{pairing.pk.hex[:8]}",
            ),
        )
        for pairing in page
    ]
    return render(request, "console/pairings.html", {"page": page, "rows": rows})


@staff_required
@require_POST
def pairing_approve(request: HttpRequest, pairing_id: Any) -> HttpResponse:
    pairing = _pairing(request, pairing_id)
    _require_approver(request, pairing)
    form = PairingApproveForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, f"{pairing.gateway.serial}: {' '.join(errors)}")
        return _back(request, _gateway_url(pairing))
    try:
        fleet_services.pairing_approve(
            user=request.user, pairing=pairing, meter_id=form.cleaned_data["meter_id"]
        )
    except ValidationError as error:
        messages.error(request, f"{pairing.gateway.serial}: {_error_text(error)}")
    else:
        messages.success(
            request,
            _("%(serial)s may now read meter %(meter)s.")
            % {"serial": pairing.gateway.serial, "meter": pairing.meter_id},
        )
    return _back(request, _gateway_url(pairing))


@staff_required
@require_POST
def pairing_reject(request: HttpRequest, pairing_id: Any) -> HttpResponse:
    pairing = _pairing(request, pairing_id)
    _require_approver(request, pairing)
    try:
        fleet_services.pairing_reject(user=request.user, pairing=pairing)
    except ValidationError as error:
        messages.error(request, f"{pairing.gateway.serial}: {_error_text(error)}")
    else:
        messages.success(
            request,
            _("Pairing for %(serial)s rejected.") % {"serial": pairing.gateway.serial},
        )
    return _back(request, _gateway_url(pairing))


@staff_required
@require_POST
def pairing_end(request: HttpRequest, pairing_id: Any) -> HttpResponse:
    pairing = _pairing(request, pairing_id)
    fleet_services.pairing_end(user=request.user, pairing=pairing)
    messages.success(
        request,
        _("%(serial)s is unpaired: it may no longer send meter readings.")
        % {"serial": pairing.gateway.serial},
    )
    return _back(request, _gateway_url(pairing))


@staff_required
@require_POST
def pairing_request(request: HttpRequest, gateway_id: Any) -> HttpResponse:
    gateway = _gateway(request, gateway_id)
    default = reverse("console:gateway", kwargs={"gateway_id": gateway.pk})
    form = PairingRequestForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, f"{gateway.serial}: {' '.join(errors)}")
        return _back(request, default)
    try:
        pairing = fleet_services.pairing_request(
            user=request.user, gateway=gateway, meter_id=form.cleaned_data["meter_id"]
        )
    except ValidationError as error:
        messages.error(request, f"{gateway.serial}: {_error_text(error)}")
        return _back(request, default)
    if pairing.status == PairingStatus.APPROVED:
        messages.success(
            request,
            _("%(serial)s is paired with meter %(meter)s (approved automatically).")
            % {"serial": gateway.serial, "meter": pairing.meter_id},
        )
    else:
        messages.success(
            request,
            _("Pairing requested for %(serial)s: waiting for %(dso)s to approve.")
            % {"serial": gateway.serial, "dso": gateway.tenant.dso_name or gateway.tenant.name},
        )
    return _back(request, default)


# Alarms ---------------------------------------------------------------------------------


@staff_required
@require_POST
def alarm_acknowledge(request: HttpRequest, alarm_id: Any) -> HttpResponse:
    alarms = GatewayAlarm.objects.restrict(request.user, Action.VIEW).select_related("gateway")
    alarm = get_object_or_404(alarms, pk=alarm_id)
    fleet_services.alarm_acknowledge(user=request.user, alarm=alarm)
    messages.success(request, _("Alarm acknowledged."))
    return _back(request, reverse("console:gateway", kwargs={"gateway_id": alarm.gateway_id}))
