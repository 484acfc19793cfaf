"""The one data-access policy: who may read a household's consumption, and how finely.

Every consumption read asks `consumption_access` first: the household must be in the
reader's VIEW_CONSUMPTION scope (`restrict()`), and the resolution must be no finer than
the reader's role allows. The finer the data, the more it tells about a home (occupancy,
appliances, routines), so the defaults follow the rules in force: the household itself
sees everything; the DSO sees daily data for grid operation (UK Smart Energy Code: daily
unless the household objects; finer needs consent); third parties see nothing without
the household's consent. Consent per resolution, purpose and recipient, and the access
log, extend this module (privacy issue).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from apps.core.permissions import Action, Role
from apps.households.models import Household
from apps.privacy.models import Purpose, Resolution

FINEST_FIRST = list(Resolution)


# The finest resolution each role may read without a consent (None: nothing).
FINEST_WITHOUT_CONSENT: dict[str, Resolution | None] = {
    Role.HOUSEHOLD_OWNER: Resolution.RAW,
    Role.HOUSEHOLD_MEMBER: Resolution.RAW,
    Role.DSO_STAFF: Resolution.DAY,
    Role.THIRD_PARTY: None,
}


@dataclass(frozen=True)
class Access:
    household: Household
    resolution: Resolution
    purpose: Purpose


def finer(a: Resolution, b: Resolution) -> bool:
    return FINEST_FIRST.index(a) < FINEST_FIRST.index(b)


def finest_allowed(user: Any) -> Resolution | None:
    return FINEST_WITHOUT_CONSENT.get(getattr(user, "role", None) or "")


def consumption_access(
    *, user: Any, household_id: Any, resolution: Resolution, purpose: Purpose = Purpose.OWN_USE
) -> Access:
    """The household, if `user` may read its consumption at `resolution`; else 404 or 403.

    404 when the household is outside the reader's consumption scope (no hint that it
    exists); 403 naming the finest resolution allowed when the data asked is too fine.
    """
    household = (
        Household.objects.restrict(user, Action.VIEW_CONSUMPTION)
        .select_related("tenant")
        .filter(pk=household_id)
        .first()
    )
    if household is None:
        raise Http404(_("No such household."))
    allowed = finest_allowed(user)
    if allowed is None:
        raise PermissionDenied(_("Reading this household's consumption needs its consent."))
    if finer(resolution, allowed):
        raise PermissionDenied(
            _("Your role may read this household's consumption at %(allowed)s at the finest.")
            % {"allowed": allowed.value}
        )
    return Access(household, resolution, purpose)
