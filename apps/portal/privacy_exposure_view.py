"""What each recipient of a household's data could learn about it, in plain words.

The words come from the privacy attack lab's measured results (apps.privacy.lab: run
`manage.py privacy_lab --save` to refresh them) mapped through the resolution each
recipient gets for this household under its consent. Owners and members only.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.permissions import HOUSEHOLD_ROLES, Action
from apps.households import selectors
from apps.households.models import Household
from apps.privacy.lab import runner
from apps.privacy.lab.exposure import household_exposures


def _own_household(request: HttpRequest, household_id: Any) -> Household:
    """The household, for its owners and members; 404 for anyone else (staff included)."""
    user: Any = request.user
    if getattr(user, "role", None) not in HOUSEHOLD_ROLES:
        raise Http404
    try:
        return selectors.household_get(user=user, household_id=household_id, action=Action.VIEW)
    except Household.DoesNotExist as error:
        raise Http404 from error


@login_required
def household_privacy_exposure(request: HttpRequest, household_id: Any) -> HttpResponse:
    household = _own_household(request, household_id)
    rows = runner.load()
    context = {
        "household": household,
        "exposures": household_exposures(household, rows),
        "measured": bool(rows),
    }
    return render(request, "portal/privacy_exposure.html", context)
