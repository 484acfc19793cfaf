"""Which tables hold a household's data: found from the models, not listed by hand.

Every model with a chain of foreign keys to `households.Household` (directly, or through a
device, a gateway, a plan...) is the household's data. Export and erasure both walk this
map, so a model added later is exported and erased without touching this code; a model
that must not be exported is named in `NEVER_EXPORTED_MODELS`, with the reason, and
`tests/privacy/test_gdpr.py` fails for a linked model that is in neither.

A row belongs to the household through its *shortest* links only: a meter reading through
its own `household`, never through `gateway__household`, because a gateway is a fleet asset
that may have served earlier households (their readings are not this household's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.apps import apps
from django.db.models import Model, Q, QuerySet

from apps.core.permissions import Action
from apps.households.models import Household

EXPORT_SCHEMA = "heb-platform/household-export"
EXPORT_SCHEMA_VERSION = 1
MAX_HOPS = 4  # the longest chain today is 3 (a plan's command's device's household)

# Linked models that are not the household's data to take away, and why.
NEVER_EXPORTED_MODELS: dict[str, str] = {
    "fleet.GatewayCredential": "the box's signing keys: secrets of the fleet, not personal data",
    "telemetry.IngestedBatch": "upload bookkeeping of the box (batch ids for de-duplication); "
    "the readings themselves are exported",
}

# Columns never exported, whatever the table (hashes and secrets give nothing to the
# household and would help an attacker who gets hold of the file).
NEVER_EXPORTED_FIELDS: dict[str, frozenset[str]] = {
    "accounts.User": frozenset({"password"}),
    "households.Invitation": frozenset({"token_hash"}),
    "fleet.Gateway": frozenset({"claim_code_hash"}),
    "fleet.GatewayCredential": frozenset({"secret_encrypted"}),
}
# Belt and braces: a column named like a secret is dropped even if nobody listed it.
SECRET_NAME = re.compile(r"password|secret|token|_hash$|^hash|otp|private_key", re.IGNORECASE)

# The fleet's own assets: released on erasure (unassigned, keys revoked), never deleted.
RELEASED_MODELS = frozenset({"fleet.Gateway"})


@dataclass(frozen=True)
class HouseholdLink:
    """A model with its lookups to the household: `paths` all of them, `own` the shortest."""

    model: type[Model]
    paths: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def own(self) -> tuple[str, ...]:
        fewest = min(path.count("__") for path in self.paths)
        return tuple(path for path in self.paths if path.count("__") == fewest)

    def rows_of(self, household_id: Any) -> QuerySet[Any]:
        """The rows that are this household's (through the shortest links)."""
        return self._filter(self.own, household_id)

    def rows_reaching(self, household_id: Any) -> QuerySet[Any]:
        """Every row with any chain at all to the household (what erasure must leave empty)."""
        return self._filter(self.paths, household_id)

    def _filter(self, paths: tuple[str, ...], household_id: Any) -> QuerySet[Any]:
        condition = reduce(or_, (Q(**{path: household_id}) for path in paths))
        return self.model._base_manager.filter(condition)


def _lookups_to_household(model: type[Model], hops: int, seen: frozenset[Any]) -> list[str]:
    """Every forward foreign-key chain from `model` to Household, as ORM lookups."""
    if model is Household:
        return ["pk"]
    if hops >= MAX_HOPS:
        return []
    lookups = []
    for field in model._meta.concrete_fields:
        target = field.related_model
        if not field.is_relation or not isinstance(target, type) or target in seen:
            continue
        for rest in _lookups_to_household(target, hops + 1, seen | {model}):
            lookups.append(field.name if rest == "pk" else f"{field.name}__{rest}")
    return lookups


def household_links() -> list[HouseholdLink]:
    """Every installed model (auto-created many-to-many tables too) that reaches a household."""
    links = []
    for model in apps.get_models(include_auto_created=True):
        paths = _lookups_to_household(model, 0, frozenset())
        if paths:
            links.append(HouseholdLink(model, tuple(sorted(set(paths)))))
    return links


def exported_links() -> list[HouseholdLink]:
    return [link for link in household_links() if link.label not in NEVER_EXPORTED_MODELS]


def exported_columns(model: type[Model]) -> list[str]:
    """The model's columns (foreign keys as `<name>_id`) minus the ones never exported."""
    hidden = NEVER_EXPORTED_FIELDS.get(model._meta.label, frozenset())
    return [
        field.attname
        for field in model._meta.concrete_fields
        if field.name not in hidden and not SECRET_NAME.search(field.name)
    ]


def ordering_columns(model: type[Model]) -> list[str]:
    """The primary key's columns: a stable order (by time for the readings' composite key)."""
    return [field.attname for field in model._meta.pk_fields]


def rights_household(*, user: Any, household_id: Any) -> Household:
    """The household whose data `user` may export or erase: its owner, or a platform admin.

    Household.DoesNotExist (a 404) for anyone else, members included: the rights over the
    whole household's data are the owner's (the one who manages its members)."""
    return (
        Household.objects.restrict(user, Action.MANAGE_MEMBERS)
        .select_related("tenant")
        .get(pk=household_id)
    )
