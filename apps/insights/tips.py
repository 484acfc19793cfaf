"""The household's coaching tips as its page shows them: read from their stored states (the
daily task or an explicit refresh computes them, a page never does), in the reader's
language."""

from __future__ import annotations

from typing import Any

from apps.households.models import Household
from apps.insights import selectors
from apps.insights.coaching import MESSAGES, tip_text
from apps.insights.emails import money
from apps.insights.models import TipState, TipStatus


def state_text(state: TipState) -> tuple[str, str]:
    """The stored tip's title and body in the active language (a state recorded before
    tips kept their values shows its stored title alone)."""
    if state.values and state.kind.partition(":")[0] in MESSAGES:
        try:
            return tip_text(state.kind, state.values)
        except (KeyError, TypeError, ValueError):  # values of an older wording
            pass
    return state.title, ""


def tips_context(household: Household) -> dict[str, Any]:
    """The open tips (the biggest saving first), the done ones, and when they were last
    looked for (None: never)."""
    currency = household.tenant.currency
    open_tips, done_tips = [], []
    for state in selectors.tip_states(household=household):
        title, body = state_text(state)
        card = {"kind": state.kind, "title": title, "body": body,
                "worth": money(state.eur_per_year, currency)}  # fmt: skip
        if state.status == TipStatus.OPEN:
            open_tips.append(card)
        elif state.status == TipStatus.DONE:
            done_tips.append(card)
    return {
        "open_tips": open_tips,
        "done_tips": done_tips,
        "tips_checked_at": selectors.tips_checked_at(household=household),
    }
