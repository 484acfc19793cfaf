"""What each recipient of a household's data could learn about it, in plain words.

The words come from the privacy attack lab's measured results (apps.privacy.lab: run
`manage.py privacy_lab --save` to refresh them) mapped through the resolution each
recipient gets for this household under its consent. Owners and members only.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.permissions import Action
from apps.privacy import selectors as privacy_selectors
from apps.privacy.lab import runner
from apps.privacy.lab.exposure import household_exposures


@login_required
def household_privacy_exposure(request: HttpRequest, household_id: Any) -> HttpResponse:
    # Its owners and members only; 404 for anyone else (staff included).
    household = privacy_selectors.own_household(request.user, household_id, Action.VIEW)
    rows = runner.load()
    context = {
        "household": household,
        "exposures": household_exposures(household, rows),
        "measured": bool(rows),
    }
    return render(request, "portal/privacy_exposure.html", context)
