"""A household's consent: one answer per recipient, purpose and resolution, and the rules in
force where it has not answered.

The defaults (no decision recorded):
- monthly data for billing needs no consent (it is what the supply contract bills on);
- daily data for any purpose but marketing goes to the DSO and the telco unless the
  household objects (UK Smart Energy Code: daily reads are opt-out);
- anything finer than daily, any marketing use, and anything for a third party needs the
  household's explicit opt-in (UK SEC; CNIL on Linky load curves: the load curve is kept
  and shared only with consent).

A consent at a resolution also covers the coarser ones for the same recipient and
purpose: a coarser series is the sum of the finer one, so refusing it would protect
nothing. Withdrawal takes effect on the next request: nothing is cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from apps.core.permissions import Perm, Role
from apps.households.models import Household
from apps.privacy.models import (
    AccessBasis,
    ConsentDecision,
    ConsentEvent,
    Purpose,
    RecipientKind,
    Resolution,
)

FINEST_FIRST = list(Resolution)
# The purposes a household answers for (its own use is not a choice).
PURPOSES = [p for p in Purpose if p != Purpose.OWN_USE]
RECIPIENT_FOR_ROLE: dict[str, RecipientKind] = {
    Role.DSO_STAFF: RecipientKind.DSO,
    Role.PLATFORM_ADMIN: RecipientKind.TELCO,
    Role.TELCO_OPERATOR: RecipientKind.TELCO,
    Role.THIRD_PARTY: RecipientKind.THIRD_PARTY,
}
# What a reader reads for when it does not say.
DEFAULT_PURPOSE: dict[RecipientKind, Purpose] = {
    RecipientKind.DSO: Purpose.GRID_OPERATION,
    RecipientKind.TELCO: Purpose.ENERGY_SERVICES,
    RecipientKind.THIRD_PARTY: Purpose.ENERGY_SERVICES,
}
# A third party's consent gives it these object grants, so `restrict()` finds the home.
THIRD_PARTY_PERMS = (Perm.VIEW_HOUSEHOLD, Perm.VIEW_CONSUMPTION)


def finer(a: Resolution | str, b: Resolution | str) -> bool:
    return FINEST_FIRST.index(Resolution(a)) < FINEST_FIRST.index(Resolution(b))


def default_basis(
    recipient: RecipientKind, purpose: Purpose, resolution: Resolution
) -> AccessBasis | None:
    """The basis the rules in force give without a decision, or None (opt-in needed)."""
    if recipient == RecipientKind.THIRD_PARTY:
        return None
    if purpose == Purpose.BILLING and resolution == Resolution.MONTH:
        return AccessBasis.CONTRACT
    if purpose != Purpose.MARKETING and not finer(resolution, Resolution.DAY):
        return AccessBasis.DEFAULT
    return None


def needs_no_consent(purpose: Purpose, resolution: Resolution) -> bool:
    """Cells the household cannot refuse (billing on monthly reads)."""
    return default_basis(RecipientKind.DSO, purpose, resolution) == AccessBasis.CONTRACT


@dataclass(frozen=True)
class Decision:
    """Whether one read is allowed, on what basis, and the consent it rests on."""

    allowed: bool
    basis: AccessBasis | None
    consent: ConsentDecision | None = None


def _decisions(
    household: Household, recipient: RecipientKind, purpose: Purpose, third_party: Any
) -> dict[str, ConsentDecision]:
    rows = ConsentDecision.objects.filter(
        household=household, recipient_kind=recipient, purpose=purpose, third_party=third_party
    )
    return {row.resolution: row for row in rows}


def decide(
    *,
    household: Household,
    recipient: RecipientKind,
    purpose: Purpose,
    resolution: Resolution,
    third_party: Any = None,
) -> Decision:
    """May `recipient` read `household` at `resolution` for `purpose`? (one query)"""
    decisions = _decisions(household, recipient, purpose, third_party)
    return decide_from(decisions, recipient, purpose, resolution)


def decide_from(
    decisions: dict[str, ConsentDecision],
    recipient: RecipientKind,
    purpose: Purpose,
    resolution: Resolution,
) -> Decision:
    """The answer from the household's decisions for one recipient and purpose (by
    resolution)."""
    # Any cell as fine as the one asked, or finer, may allow it; explicit answers first.
    for cell in FINEST_FIRST[: FINEST_FIRST.index(resolution) + 1]:
        row = decisions.get(cell)
        if row is not None and row.granted:
            return Decision(True, AccessBasis.CONSENT, row)
    own = decisions.get(resolution)
    basis = default_basis(recipient, purpose, resolution)
    if basis == AccessBasis.CONTRACT or (basis is not None and own is None):
        return Decision(True, basis)
    return Decision(False, None, own)


def finest_allowed(
    *, household: Household, recipient: RecipientKind, purpose: Purpose, third_party: Any = None
) -> Resolution | None:
    decisions = _decisions(household, recipient, purpose, third_party)
    for resolution in FINEST_FIRST:
        if decide_from(decisions, recipient, purpose, resolution).allowed:
            return resolution
    return None


@transaction.atomic
def consent_set(
    *,
    household: Household,
    recipient_kind: RecipientKind | str,
    purpose: Purpose | str,
    resolution: Resolution | str,
    granted: bool,
    by: Any,
    third_party: Any = None,
) -> ConsentDecision:
    """Record the household's answer for one cell, and log the change.

    Callers check that `by` may decide for the household (its owner); this checks the
    cell makes sense. A third party's grants follow its consents: it keeps the object
    grants while at least one of its cells is granted.
    """
    recipient, purpose, resolution = (
        RecipientKind(recipient_kind),
        Purpose(purpose),
        Resolution(resolution),
    )
    _check_cell(household, recipient, purpose, resolution, third_party)
    now = timezone.now()
    decision, created = ConsentDecision.objects.select_for_update().get_or_create(
        household=household,
        recipient_kind=recipient,
        third_party=third_party,
        purpose=purpose,
        resolution=resolution,
        defaults={"granted": granted, "decided_by": by, "decided_at": now},
    )
    if not created and decision.granted == granted:
        return decision
    if not created:
        decision.granted, decision.decided_by, decision.decided_at = granted, by, now
        decision.save(update_fields=["granted", "decided_by", "decided_at"])
    ConsentEvent.objects.create(
        household=household, decision=decision, granted=granted, changed_by=by, at=now
    )
    if third_party is not None:
        _sync_third_party_grants(household, third_party)
    return decision


def _check_cell(
    household: Household,
    recipient: RecipientKind,
    purpose: Purpose,
    resolution: Resolution,
    third_party: Any,
) -> None:
    if purpose == Purpose.OWN_USE:
        raise ValueError("The household's own use is not a consent.")
    if needs_no_consent(purpose, resolution) and recipient != RecipientKind.THIRD_PARTY:
        raise ValueError("Monthly data for billing needs no consent.")
    if (recipient == RecipientKind.THIRD_PARTY) != (third_party is not None):
        raise ValueError("A third party's consent names the third party, and only it.")
    if third_party is not None and (
        third_party.role != Role.THIRD_PARTY or third_party.tenant_id != household.tenant_id
    ):
        raise ValueError("Not a third party registered with this household's energy partner.")


def _sync_third_party_grants(household: Household, third_party: Any) -> None:
    granted_any = ConsentDecision.objects.filter(
        household=household, third_party=third_party, granted=True
    ).exists()
    for perm in THIRD_PARTY_PERMS:
        if granted_any:
            assign_perm(perm.value, third_party, household)
        else:
            remove_perm(perm.value, third_party, household)


def third_parties_for(household: Household) -> Any:
    """The third parties a household may answer for: those of its energy partner."""
    from apps.accounts.models import User

    return User.objects.filter(
        role=Role.THIRD_PARTY, tenant_id=household.tenant_id, is_active=True
    ).order_by("first_name", "username")


def refusing_households(
    *, recipient: RecipientKind, purpose: Purpose, resolution: Resolution
) -> Any:
    """Ids of households that refused `recipient` their data at `resolution` for `purpose`
    (default-allowed cells they objected to, with no finer consent that covers it): for the
    platform's own processing over many households, e.g. the comparison groups."""
    finer_or_equal = FINEST_FIRST[: FINEST_FIRST.index(resolution) + 1]
    covered = ConsentDecision.objects.filter(
        recipient_kind=recipient, purpose=purpose, resolution__in=finer_or_equal, granted=True
    ).values("household_id")
    refused = ConsentDecision.objects.filter(
        recipient_kind=recipient, purpose=purpose, resolution=resolution, granted=False
    )
    if default_basis(recipient, purpose, resolution) is None:
        # Opt-in cell: everyone refuses who did not agree.
        return Household.objects.exclude(pk__in=covered).values("pk")
    return refused.exclude(household_id__in=covered).values("household_id")
