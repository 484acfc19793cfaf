"""What the household's privacy pages show: its consent, cell by cell, and its access log."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from apps.core.permissions import HOUSEHOLD_ROLES, Action
from apps.households.models import Household
from apps.privacy import consent
from apps.privacy.models import (
    AccessBasis,
    AccessLogEntry,
    ConsentDecision,
    ConsentEvent,
    Purpose,
    RecipientKind,
    Resolution,
)

COARSE_FIRST = list(reversed(consent.FINEST_FIRST))


@dataclass(frozen=True)
class Cell:
    resolution: Resolution
    allowed: bool
    basis: AccessBasis | None
    fixed: bool  # monthly billing: not the household's to refuse
    covered: bool  # allowed by a consent at a finer resolution
    explicit: bool  # the household answered this cell itself

    @property
    def field(self) -> str:
        return self.resolution.value


@dataclass(frozen=True)
class PurposeRow:
    purpose: Purpose
    cells: list[Cell]


@dataclass(frozen=True)
class RecipientTable:
    key: str  # "dso", "telco" or the third party's user id
    kind: RecipientKind
    name: str
    third_party: Any
    rows: list[PurposeRow]


def own_household(user: Any, household_id: Any, action: Action) -> Household:
    """The household if `user` is one of its own people with `action` on it, else 404:
    consent and the access log are the household's own business."""
    household = (
        Household.objects.restrict(user, action)
        .select_related("tenant")
        .filter(pk=household_id)
        .first()
    )
    if household is None or user.role not in HOUSEHOLD_ROLES:
        raise Http404(_("No such household."))
    return household


def recipients(household: Household) -> list[tuple[str, RecipientKind, str, Any]]:
    tenant = household.tenant
    found: list[tuple[str, RecipientKind, str, Any]] = [
        ("dso", RecipientKind.DSO, tenant.dso_name or tenant.name, None),
        ("telco", RecipientKind.TELCO, str(RecipientKind.TELCO.label), None),
    ]
    for user in consent.third_parties_for(household):
        name = user.get_full_name() or user.get_username()
        found.append((str(user.pk), RecipientKind.THIRD_PARTY, name, user))
    return found


def _cell(decisions: dict[str, ConsentDecision], kind: RecipientKind, purpose: Purpose,
          resolution: Resolution) -> Cell:  # fmt: skip
    decision = consent.decide_from(decisions, kind, purpose, resolution)
    own = decision.consent is not None and decision.consent.resolution == resolution
    return Cell(
        resolution=resolution,
        allowed=decision.allowed,
        basis=decision.basis,
        fixed=decision.basis == AccessBasis.CONTRACT,
        covered=decision.allowed and decision.consent is not None and not own,
        explicit=own,
    )


def _all_decisions(household: Household) -> dict[tuple[str, Any, str], dict[str, ConsentDecision]]:
    """The household's decisions by (recipient, third party id, purpose), then resolution."""
    grouped: dict[tuple[str, Any, str], dict[str, ConsentDecision]] = defaultdict(dict)
    for row in ConsentDecision.objects.filter(household=household):
        grouped[(row.recipient_kind, row.third_party_id, row.purpose)][row.resolution] = row
    return grouped


def consent_tables(household: Household) -> list[RecipientTable]:
    """The household's consent for every recipient, purpose and resolution (one query)."""
    known = _all_decisions(household)
    tables = []
    for key, kind, name, third_party in recipients(household):
        party_id = third_party.pk if third_party else None
        rows = [
            PurposeRow(
                purpose,
                [_cell(known[(kind, party_id, purpose)], kind, purpose, r) for r in COARSE_FIRST],
            )
            for purpose in consent.PURPOSES
        ]
        tables.append(RecipientTable(key, kind, name, third_party, rows))
    return tables


def consent_history(household: Household) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(household=household).select_related(
        "decision", "decision__third_party", "changed_by"
    )


def access_log(household: Household, *, others_only: bool = False) -> QuerySet[AccessLogEntry]:
    """The household's access log, newest first; `others_only` leaves out its own people."""
    entries = AccessLogEntry.objects.filter(household=household)
    if others_only:
        entries = entries.exclude(role__in=list(HOUSEHOLD_ROLES))
    return entries
