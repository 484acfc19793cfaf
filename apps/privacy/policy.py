"""The one data-access policy: who may read a household's consumption, how finely, why.

Every consumption read asks `consumption_access` first: the household must be in the
reader's VIEW_CONSUMPTION scope (`restrict()`: 404 outside it), and then
- the household's own people read everything, for their own use;
- a recipient (the DSO's staff, the telco, a third party) reads for a purpose, no finer
  than the household's consent for that recipient and purpose allows, or the rules in
  force where the household has not answered (`consent.py`): 403 naming the finest
  resolution allowed.
Each allowed read finer than daily is written to the household's access log: who, as
what, why, on which consent, how finely, and the period once the caller knows it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.permissions import HOUSEHOLD_ROLES, Action
from apps.households.models import Household
from apps.privacy import consent
from apps.privacy.consent import DEFAULT_PURPOSE, RECIPIENT_FOR_ROLE, finer
from apps.privacy.models import AccessBasis, AccessLogEntry, Purpose, RecipientKind, Resolution


@dataclass(frozen=True)
class Access:
    household: Household
    resolution: Resolution
    purpose: Purpose
    basis: AccessBasis
    consent_id: Any = None
    log_entry_id: int | None = None

    def covering(self, start: datetime, end: datetime) -> Access:
        """Record the period the read covers in its access-log entry (if it has one)."""
        if self.log_entry_id is not None:
            AccessLogEntry.objects.filter(pk=self.log_entry_id).update(
                period_start=start, period_end=end
            )
        return self


def consumption_access(
    *,
    user: Any,
    household_id: Any,
    resolution: Resolution,
    purpose: Purpose | None = None,
    what: str = "",
    record: bool = True,
) -> Access:
    """The household, if `user` may read its consumption at `resolution`; else 404 or 403.

    404 when the household is outside the reader's consumption scope (no hint that it
    exists); 403 naming the finest resolution allowed when the data asked is too fine.
    `what` names the read in the access log (the endpoint or page).
    """
    household = (
        Household.objects.restrict(user, Action.VIEW_CONSUMPTION)
        .select_related("tenant")
        .filter(pk=household_id)
        .first()
    )
    if household is None:
        raise Http404(_("No such household."))
    if user.role in HOUSEHOLD_ROLES:
        access = Access(household, resolution, Purpose.OWN_USE, AccessBasis.OWN)
    else:
        access = _recipient_access(user, household, resolution, purpose)
    if record and finer(resolution, Resolution.DAY):
        return _logged(access, user, what)
    return access


def _recipient_access(
    user: Any, household: Household, resolution: Resolution, purpose: Purpose | None
) -> Access:
    recipient = RECIPIENT_FOR_ROLE.get(user.role)
    if recipient is None:
        raise PermissionDenied(_("Reading this household's consumption needs its consent."))
    purpose = Purpose(purpose) if purpose else DEFAULT_PURPOSE[recipient]
    if purpose == Purpose.OWN_USE:
        raise PermissionDenied(_("Only the household itself reads for its own use."))
    third_party = user if recipient == RecipientKind.THIRD_PARTY else None
    decision = consent.decide(
        household=household,
        recipient=recipient,
        purpose=purpose,
        resolution=resolution,
        third_party=third_party,
    )
    if decision.allowed and decision.basis is not None:
        consent_id = decision.consent.pk if decision.consent else None
        return Access(household, resolution, purpose, decision.basis, consent_id)
    allowed = consent.finest_allowed(
        household=household, recipient=recipient, purpose=purpose, third_party=third_party
    )
    if allowed is None:
        raise PermissionDenied(
            _("Reading this household's consumption for %(purpose)s needs its consent.")
            % {"purpose": purpose.label}
        )
    raise PermissionDenied(
        _(
            "The household allows its consumption for %(purpose)s no finer than: %(allowed)s "
            "(%(code)s)."
        )
        % {"purpose": purpose.label, "allowed": allowed.label, "code": allowed.value}
    )


def _logged(access: Access, user: Any, what: str) -> Access:
    entry = AccessLogEntry.objects.create(
        household=access.household,
        reader=user,
        reader_name=(user.get_full_name() or user.get_username())[:150],
        role=user.role,
        purpose=access.purpose,
        basis=access.basis,
        consent_id=access.consent_id,
        resolution=access.resolution,
        what=what[:120],
        at=timezone.now(),
    )
    return replace(access, log_entry_id=entry.pk)


def finest_for(
    user: Any, household: Household, purpose: Purpose | None = None
) -> Resolution | None:
    """The finest resolution `user` may read `household` at (for links and page parts)."""
    if user.role in HOUSEHOLD_ROLES:
        return Resolution.RAW
    recipient = RECIPIENT_FOR_ROLE.get(user.role)
    if recipient is None:
        return None
    return consent.finest_allowed(
        household=household,
        recipient=recipient,
        purpose=purpose or DEFAULT_PURPOSE[recipient],
        third_party=user if recipient == RecipientKind.THIRD_PARTY else None,
    )
