"""A grant that goes closes the live stream at once (the sockets re-check their reader);
a changed device drops the live frame's cached device list."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.devices.models import Device
from apps.households.models import HouseholdUserPermission, Membership
from apps.live.services import access_changed, devices_key
from apps.privacy.models import ConsentDecision


def _after_commit(household_ids: set[Any]) -> None:
    for household_id in household_ids:
        transaction.on_commit(partial(access_changed, household_id), robust=True)


@receiver(post_save, sender=Device)
@receiver(post_delete, sender=Device)
def _device_changed(sender: Any, instance: Device, **kwargs: Any) -> None:
    """The live frame names devices from a cached list: a changed device drops it."""
    cache.delete(devices_key(instance.household_id))


@receiver(post_delete, sender=HouseholdUserPermission)
def _grant_removed(sender: Any, instance: HouseholdUserPermission, **kwargs: Any) -> None:
    _after_commit({instance.content_object_id})


@receiver(post_save, sender=ConsentDecision)
def _consent_changed(sender: Any, instance: ConsentDecision, **kwargs: Any) -> None:
    """A withdrawn consent ends a recipient's live stream now, not at the next re-check."""
    _after_commit({instance.household_id})


@receiver(post_delete, sender=Membership)
def _membership_removed(sender: Any, instance: Membership, **kwargs: Any) -> None:
    _after_commit({instance.household_id})


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def _user_changed(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """A deactivated account or a changed role: every household it may watch re-checks."""
    if kwargs.get("created") or (update_fields and set(update_fields) <= {"last_login"}):
        return
    grants = HouseholdUserPermission.objects.filter(user=instance.pk)
    households = set(grants.values_list("content_object_id", flat=True))
    households |= set(instance.memberships.values_list("household_id", flat=True))
    _after_commit(households)
