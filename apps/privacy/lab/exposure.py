"""What each recipient could learn about one household, in plain words, from the lab's
measured results and the resolution that recipient actually gets for this household.

The lab measures each attack at each resolution (rows with defence "none", "resolution"
or "aggregation:<resolution>"); a recipient's resolution comes from the household's
consent (apps.privacy.consent) and whether its role may read consumption at all. A
resolution the lab did not measure is read as the nearest finer one it did (never
understating what could be learnt).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.permissions import SCOPES, Action, Role
from apps.households.models import Household
from apps.privacy import consent
from apps.privacy.models import RecipientKind, Resolution

FINEST_FIRST = ["1m", "15m", "30m", "1h", "1d", "1mo"]
RAW_AS = "1m"  # the raw baseline's minutes stand for the "raw" resolution
CAN_TELL, CAN_GUESS = 0.4, 0.15  # MCC: reliably / better than a guess but often wrong
WHAT = {
    "occupancy": gettext_lazy("when you are home or out during a day"),
    "absence": gettext_lazy("when you are away for several days"),
    "appliance": gettext_lazy(
        "which appliances you have and use (an electric car, heating, a dishwasher…)"
    ),
    "routine": gettext_lazy("your daily routine (when you get up, eat and go to bed)"),
}


@dataclass
class Exposure:
    recipient: str
    sees: str  # the resolution, in words
    can_tell: list[str]
    can_guess: list[str]
    cannot_tell: list[str]


def measured(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """MCC per resolution and attack, from the rows that show a plain resolution."""
    table: dict[str, dict[str, float]] = {}
    for row in rows:
        defence = str(row.get("defence", ""))
        if defence not in ("none", "resolution") and not defence.startswith("aggregation:"):
            continue
        seen = str(row.get("resolution_seen", ""))
        if seen not in FINEST_FIRST:
            continue
        table.setdefault(seen, {})[row["attack"]] = float(row["mcc"])
    return table


def _scores_for(resolution: str, table: dict[str, dict[str, float]]) -> dict[str, float]:
    resolution = RAW_AS if resolution == Resolution.RAW else resolution
    for finer in reversed(FINEST_FIRST[: FINEST_FIRST.index(resolution) + 1]):
        if finer in table:
            return table[finer]
    return table.get(RAW_AS, {})


def recipient_resolution(
    household: Household, recipient: RecipientKind, role: str, third_party: Any = None
) -> Resolution | None:
    """The finest resolution the recipient may read, over every purpose; None: nothing."""
    if role not in SCOPES[Action.VIEW_CONSUMPTION]:
        return None  # the role never reads consumption, whatever the consent says
    allowed = [
        consent.finest_allowed(
            household=household, recipient=recipient, purpose=purpose, third_party=third_party
        )
        for purpose in consent.PURPOSES
    ]
    found = [r for r in allowed if r is not None]
    return min(found, key=consent.FINEST_FIRST.index) if found else None


def exposure(
    name: str, resolution: Resolution | None, table: dict[str, dict[str, float]]
) -> Exposure:
    if resolution is None:
        return Exposure(
            name, _("nothing of your consumption"), [], [], [str(w) for w in WHAT.values()]
        )
    scores = _scores_for(resolution.value, table)
    levels: dict[str, list[str]] = {"tell": [], "guess": [], "not": []}
    for attack, words in WHAT.items():
        mcc = scores.get(attack, 0.0)
        level = "tell" if mcc >= CAN_TELL else "guess" if mcc >= CAN_GUESS else "not"
        levels[level].append(str(words))
    return Exposure(name, str(resolution.label).lower(), levels["tell"], levels["guess"],
                    levels["not"])  # fmt: skip


def household_exposures(household: Household, rows: list[dict[str, Any]]) -> list[Exposure]:
    table = measured(rows)
    out = [
        exposure(_("Your distribution network operator (DSO)"),
                 recipient_resolution(household, RecipientKind.DSO, Role.DSO_STAFF), table),
        exposure(_("The telco running your energy box"),
                 recipient_resolution(household, RecipientKind.TELCO, Role.TELCO_OPERATOR), table),
        exposure(_("Your installer"), None, table),  # installers never read consumption
    ]  # fmt: skip
    for third_party in consent.third_parties_for(household):
        name = third_party.get_full_name() or third_party.get_username()
        resolution = recipient_resolution(
            household, RecipientKind.THIRD_PARTY, Role.THIRD_PARTY, third_party
        )
        out.append(exposure(name, resolution, table))
    return out
