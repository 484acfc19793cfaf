from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.console.forms import AssignInstallerForm
from apps.core.permissions import Action, is_staff_role
from apps.devices.selectors import device_list
from apps.fleet.selectors import gateway_list
from apps.households import selectors, services
from apps.households.models import Household
from apps.tenants.selectors import tenant_list

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_staff_role(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    tenants = tenant_list(user=request.user).annotate(
        household_count=Count("households", distinct=True),
        gateway_count=Count("gateways", distinct=True),
    )
    households = selectors.household_list(user=request.user)
    gateways = gateway_list(user=request.user)
    context = {
        "tenants": tenants,
        "household_count": households.count(),
        "gateway_count": gateways.count(),
        "gateways_3g": gateways.filter(connectivity="3g").count(),
        "gateways_unclaimed": gateways.filter(household__isnull=True).count(),
    }
    return render(request, "console/home.html", context)


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


@staff_required
def household_detail(request: HttpRequest, household_id: Any) -> HttpResponse:
    household = _household(request, household_id)
    can_assign = selectors.household_can(
        user=request.user, household=household, action=Action.ASSIGN_INSTALLER
    )
    context = {
        "household": household,
        "gateways": gateway_list(user=request.user).filter(household=household),
        "devices": device_list(user=request.user).filter(household=household),
        "can_assign": can_assign,
        "assignments": selectors.installer_assignment_list(household=household)
        if can_assign
        else None,
        "assign_form": AssignInstallerForm(tenant_id=household.tenant_id) if can_assign else None,
    }
    return render(request, "console/household.html", context)


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
def gateway_fleet(request: HttpRequest) -> HttpResponse:
    gateways = gateway_list(user=request.user)
    connectivity = request.GET.get("connectivity", "")
    if connectivity:
        gateways = gateways.filter(connectivity=connectivity)
    page = Paginator(gateways, 50).get_page(request.GET.get("page"))
    return render(request, "console/gateways.html", {"page": page, "connectivity": connectivity})
