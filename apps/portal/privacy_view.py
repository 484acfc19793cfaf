"""The household's privacy pages: its consent, cell by cell, and who read its data."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from apps.core.permissions import Action, Role
from apps.households.models import Household
from apps.privacy import consent, selectors
from apps.privacy.models import Purpose, RecipientKind, Resolution

LOG_PAGE_SIZE = 50


def _own_household(request: HttpRequest, household_id: Any, action: Action) -> Household:
    return selectors.own_household(request.user, household_id, action)


@login_required
def consent_page(request: HttpRequest, household_id: Any) -> HttpResponse:
    household = _own_household(request, household_id, Action.VIEW_CONSUMPTION)
    user: Any = request.user
    context = {
        "household": household,
        "tables": selectors.consent_tables(household),
        "history": selectors.consent_history(household)[:50],
        "can_change": user.role == Role.HOUSEHOLD_OWNER,
        "resolutions": selectors.COARSE_FIRST,
    }
    return render(request, "portal/privacy_consent.html", context)


@login_required
@require_POST
def consent_change(request: HttpRequest, household_id: Any, recipient: str) -> HttpResponse:
    """One recipient's table: each cell whose box differs from what is in force is recorded
    as the household's own answer (cells left as they are stay on their default)."""
    household = _own_household(request, household_id, Action.MANAGE_MEMBERS)
    user: Any = request.user
    if user.role != Role.HOUSEHOLD_OWNER:
        raise Http404(_("No such household."))
    table = next((t for t in selectors.consent_tables(household) if t.key == recipient), None)
    if table is None:
        raise Http404(_("No such recipient."))
    changed = 0
    for row in table.rows:
        for cell in row.cells:
            if cell.fixed or cell.covered:
                continue
            wanted = request.POST.get(f"{row.purpose}:{cell.field}") == "on"
            if wanted != cell.allowed:
                consent.consent_set(
                    household=household, recipient_kind=table.kind, purpose=row.purpose,
                    resolution=cell.resolution, granted=wanted, by=user,
                    third_party=table.third_party,
                )  # fmt: skip
                changed += 1
    if changed:
        saved = ngettext(
            "%(name)s: %(count)d choice saved.", "%(name)s: %(count)d choices saved.", changed
        )
        messages.success(request, saved % {"name": table.name, "count": changed})
    else:
        messages.info(request, _("%(name)s: nothing changed.") % {"name": table.name})
    return redirect("portal:privacy-consent", household_id=household.pk)


@login_required
def access_log_page(request: HttpRequest, household_id: Any) -> HttpResponse:
    household = _own_household(request, household_id, Action.VIEW_CONSUMPTION)
    others_only = request.GET.get("who") != "all"
    entries = selectors.access_log(household, others_only=others_only).select_related("consent")
    page = Paginator(entries, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "household": household,
        "page": page,
        "others_only": others_only,
        "purposes": dict(Purpose.choices),
        "resolutions": dict(Resolution.choices),
        "recipient_kinds": dict(RecipientKind.choices),
        "roles": dict(Role.choices),
    }
    return render(request, "portal/privacy_log.html", context)
