"""Erasure of a household (GDPR art. 17): everything, derived data included, in one go.

What goes: every row linked to the household (`gdpr.household_links`: readings, rollups,
forecasts, plans, reports, tips, the PV index neighbours pool, notifications, overload
episodes, consent, the access log, grants, invitations...) and the household itself.
What stays:
- the boxes, fleet assets: released (unassigned, keys revoked, their upload bookkeeping
  and pending commands dropped) so that the tenant can claim them for another home;
- the members' accounts that belong to no other household: deactivated and anonymised,
  not deleted (other records may point at a user row; anonymising cannot fail on them and
  leaves nothing that identifies the person);
- a `DataRightsRecord(kind=erasure)`: the household's id and counts per table, no names.
One transaction: a failure rolls everything back, nothing is half-erased.
"""

from __future__ import annotations

import uuid
from graphlib import CycleError, TopologicalSorter
from typing import Any

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.permissions import HOUSEHOLD_ROLES
from apps.fleet.models import Gateway
from apps.households.models import Household, Membership
from apps.privacy import gdpr
from apps.privacy.models import DataRightsKind, DataRightsRecord
from apps.telemetry.models import IngestedBatch

ERASED_LABEL = "erased"  # what replaces names in the audit records left behind


def confirmation_matches(household: Household, confirmation: Any) -> bool:
    """The person typed the household's name (spaces and case aside)."""
    if not isinstance(confirmation, str):
        return False
    return " ".join(confirmation.split()).casefold() == " ".join(household.name.split()).casefold()


def household_erase(*, user: Any, household_id: Any, confirmation: Any) -> DataRightsRecord:
    """Erase the household for its owner (or a platform admin).

    Household.DoesNotExist (a 404) for anyone else; ValidationError when `confirmation` is
    not the household's name (nothing is deleted)."""
    household = gdpr.rights_household(user=user, household_id=household_id)
    if not confirmation_matches(household, confirmation):
        raise ValidationError(
            {"confirm": _("Type the household's name exactly to confirm the erasure.")}
        )
    return _erase(household, requested_by=user)


@transaction.atomic
def _erase(household: Household, *, requested_by: Any) -> DataRightsRecord:
    household = Household.objects.select_for_update().get(pk=household.pk)
    people = _people_to_anonymise(household)
    counts = _release_gateways(household)
    _add(counts, _delete_linked_rows(household))
    _add(counts, _delete_account_data(people))
    counts["accounts.User (anonymised)"] = _anonymise(people)
    _scrub_name_copies(people)
    counts["admin.LogEntry (anonymised)"] = _anonymise_admin_log(household)
    _scrub_earlier_records(household)
    return DataRightsRecord.objects.create(
        kind=DataRightsKind.ERASURE,
        household_id=household.pk,
        tenant_id=household.tenant_id,
        requested_by=requested_by,
        requested_by_name=_requester_label(requested_by),
        counts=counts,
        finished_at=timezone.now(),
    )


def _add(counts: dict[str, int], more: dict[str, int]) -> None:
    for label, count in more.items():
        if count:
            counts[label] = counts.get(label, 0) + count


def _release_gateways(household: Household) -> dict[str, int]:
    """The boxes go back to the tenant's stock: a reset box must be claimed again, and a
    claim starts a new trust chain (apps.fleet.services.gateway_claim)."""
    now = timezone.now()
    gateways = Gateway.objects.select_for_update().filter(household=household)
    gateway_ids = list(gateways.values_list("pk", flat=True))
    revoked = 0
    for gateway in gateways:
        revoked += gateway.credentials.filter(revoked_at__isnull=True).update(revoked_at=now)
    # What the platform still holds for the box about this home: its upload bookkeeping and
    # the orders it has not fetched (the commands go with the household's rows below).
    batches, _ = IngestedBatch.objects.filter(gateway__in=gateway_ids).delete()
    gateways.update(
        household=None, claimed_at=None, claimed_by=None, meter_id_seen="", outbox_depth=None
    )
    return {
        "fleet.Gateway (released)": len(gateway_ids),
        "fleet.GatewayCredential (revoked)": revoked,
        "telemetry.IngestedBatch": batches,
    }


def _deletion_order(links: list[gdpr.HouseholdLink]) -> list[gdpr.HouseholdLink]:
    """Referencing tables before the tables they point at: each delete is then a plain
    DELETE, with no cascade for Django to collect in memory (readings can be millions)."""
    by_model = {link.model: link for link in links}
    graph: dict[Any, set[Any]] = {model: set() for model in by_model}
    for model in by_model:
        for field in model._meta.concrete_fields:
            target = field.related_model
            if field.is_relation and target in by_model and target is not model:
                graph[target].add(model)  # `model` points at `target`: delete it first
    try:
        return [by_model[model] for model in TopologicalSorter(graph).static_order()]
    except CycleError:  # a future cycle: the cascade of Household.delete() still finishes
        return links


def _delete_linked_rows(household: Household) -> dict[str, int]:
    """Rows deleted per table (cascades included), the household's own row last."""
    links = [link for link in gdpr.household_links() if link.label not in gdpr.RELEASED_MODELS]
    counts: dict[str, int] = {}
    for link in _deletion_order(links):
        _, per_model = link.rows_of(household.pk).delete()
        _add(counts, per_model)
    return counts


def _people_to_anonymise(household: Household) -> list[User]:
    """The household's people with no other household (staff accounts are never touched)."""
    members = User.objects.filter(memberships__household=household, role__in=HOUSEHOLD_ROLES)
    elsewhere = Membership.objects.exclude(household=household).values("user_id")
    return list(members.exclude(pk__in=elsewhere).distinct())


def _delete_account_data(people: list[User]) -> dict[str, int]:
    """What deleting the accounts would take with them (TOTP devices, API tokens, group
    memberships...) goes; only the anonymised user row stays for the records that point
    at it."""
    ids = [person.pk for person in people]
    counts: dict[str, int] = {}
    for model in apps.get_models(include_auto_created=True):
        for fk in model._meta.concrete_fields:
            cascades = getattr(fk.remote_field, "on_delete", None) is models.CASCADE
            if cascades and fk.related_model is User and model is not User and ids:
                _, per_model = model._base_manager.filter(**{f"{fk.name}__in": ids}).delete()
                _add(counts, per_model)
    return counts


def _anonymise(people: list[User]) -> int:
    for person in people:
        person.username = f"erased-{uuid.uuid4().hex}"
        person.first_name = person.last_name = person.email = ""
        person.language = ""
        person.is_active = False
        person.last_login = None
        person.set_unusable_password()
        person.save()
    return len(people)


def _scrub_name_copies(people: list[User]) -> None:
    """Records elsewhere that copied a person's name beside the foreign key (an audit
    event's `username` next to `actor`, a record's `requested_by_name`) lose it too, and
    their network address; found from the models, like the household's tables."""
    if not people:
        return
    ids = [person.pk for person in people]
    for model in apps.get_models():
        for fk in model._meta.concrete_fields:
            if fk.is_relation and fk.related_model is User and model is not User:
                changes = _name_copy_changes(model, fk.name)
                if changes:
                    model._base_manager.filter(**{f"{fk.name}__in": ids}).update(**changes)


def _name_copy_changes(model: Any, fk_name: str) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.name in (f"{fk_name}_name", "username") and field.get_internal_type() in (
            "CharField",
            "TextField",
        ):
            changes[field.name] = ERASED_LABEL
        elif field.get_internal_type() == "GenericIPAddressField" and field.null:
            changes[field.name] = None
    return changes


def _anonymise_admin_log(household: Household) -> int:
    """The admin's history keeps that staff changed a household, not which one it was."""
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Household), object_id=str(household.pk)
    )
    return entries.update(object_repr=ERASED_LABEL, change_message="")


def _scrub_earlier_records(household: Household) -> None:
    DataRightsRecord.objects.filter(household_id=household.pk).update(
        requested_by_name=ERASED_LABEL
    )


def _requester_label(user: Any) -> str:
    """No personal data in the record: a household's own requester is named by role only."""
    if getattr(user, "role", None) in HOUSEHOLD_ROLES:
        return str(user.role)
    return str(user.get_username())
