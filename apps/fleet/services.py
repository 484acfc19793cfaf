"""Writes on the fleet: claiming, credentials, meter pairing, heartbeats, alarms, commands.

Services that act for a person check the person's scope with `restrict()` themselves;
services that act for a gateway take the gateway the agent API authenticated.
"""

from __future__ import annotations

import hmac
import secrets as stdlib_secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.permissions import Action
from apps.fleet import secrets
from apps.fleet.models import (
    AlarmKind,
    CommandStatus,
    Gateway,
    GatewayAlarm,
    GatewayCommand,
    GatewayCredential,
    MeterPairing,
    PairingStatus,
)
from apps.households.models import Household

ALARM_REPEAT_AFTER = timedelta(hours=1)  # one open alarm of a kind per gateway per hour


class ProvisionRefused(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class IssuedCredential:
    credential: GatewayCredential
    secret: str  # in clear: only ever handed to the box itself


def _require_household(user: Any, actions: tuple[Action, ...], household: Household) -> None:
    for action in actions:
        if Household.objects.restrict(user, action).filter(pk=household.pk).exists():
            return
    raise PermissionDenied(_("You may not do this for this household."))


def _require_gateway(user: Any, action: Action, gateway: Gateway) -> None:
    if not Gateway.objects.restrict(user, action).filter(pk=gateway.pk).exists():
        raise PermissionDenied(_("You may not do this for this gateway."))


# Registration and claiming --------------------------------------------------------------


def gateway_register(*, tenant: Any, serial: str, claim_code: str, **fields: Any) -> Gateway:
    """The factory step: a new box in a tenant's stock, with the claim code on its label."""
    return Gateway.objects.create(
        tenant=tenant, serial=serial, claim_code_hash=secrets.hash_claim_code(claim_code), **fields
    )


def new_claim_code() -> str:
    """Twelve characters without look-alikes (no 0/O, 1/I), printed on the box."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(stdlib_secrets.choice(alphabet) for _ in range(12))


def _claim_code_matches(gateway: Gateway, claim_code: str) -> bool:
    presented = secrets.hash_claim_code(claim_code)
    return bool(gateway.claim_code_hash) and hmac.compare_digest(gateway.claim_code_hash, presented)


def _claim_window_open(gateway: Gateway, now: datetime) -> bool:
    window = timedelta(hours=settings.GATEWAY_CLAIM_WINDOW_HOURS)
    return gateway.claimed_at is not None and now - gateway.claimed_at <= window


def _was_provisioned(gateway: Gateway) -> bool:
    """The box fetched a key since its last claim (a re-claim starts a new trust chain)."""
    delivered = gateway.credentials.filter(delivered_at__isnull=False)
    if gateway.claimed_at is not None:
        delivered = delivered.filter(delivered_at__gte=gateway.claimed_at)
    return delivered.exists()


@transaction.atomic
def gateway_claim(*, user: Any, household: Household, serial: str, claim_code: str) -> Gateway:
    """An installer (or the owner) binds the box in their hands to a household.

    The same message for an unknown serial and a wrong code: no serial enumeration.
    A box claimed but never provisioned within the window may be claimed again. A claim
    starts a new trust chain: every earlier key of the box is revoked, and the box
    provisions again (a reset or replaced box).
    """
    _require_household(user, (Action.INSTALL, Action.CHANGE), household)
    refused = ValidationError({"claim_code": _("Unknown serial or wrong claim code.")})
    gateway = (
        Gateway.objects.select_for_update()
        .filter(serial=serial.strip(), tenant_id=household.tenant_id)
        .first()
    )
    if gateway is None or not _claim_code_matches(gateway, claim_code):
        raise refused
    now = timezone.now()
    taken = gateway.household_id and gateway.household_id != household.pk
    if taken and (_was_provisioned(gateway) or _claim_window_open(gateway, now)):
        raise ValidationError({"serial": _("This gateway already belongs to a household.")})
    gateway.household = household
    gateway.claimed_at = now
    gateway.claimed_by = user
    gateway.save(update_fields=["household", "claimed_at", "claimed_by"])
    gateway.credentials.filter(revoked_at__isnull=True).update(revoked_at=now)
    credential_issue(gateway=gateway, created_by=user)
    return gateway


@transaction.atomic
def gateway_provision(*, serial: str, claim_code: str) -> tuple[IssuedCredential, Gateway]:
    """The box fetches its first key, once, with the code on its label, within the window."""
    gateway = Gateway.objects.select_for_update().filter(serial=serial).first()
    if gateway is None or not _claim_code_matches(gateway, claim_code):
        raise ProvisionRefused(_("Unknown serial or wrong claim code."), 403)
    now = timezone.now()
    if gateway.household_id is None:
        raise ProvisionRefused(_("Not claimed yet: an installer must claim this box."), 403)
    if _was_provisioned(gateway):
        raise ProvisionRefused(_("This box already received its key."), 409)
    if not _claim_window_open(gateway, now):
        raise ProvisionRefused(_("The claim has lapsed: claim the box again."), 403)
    credential = gateway.credentials.usable(now).filter(delivered_at__isnull=True).first()
    if credential is None:
        raise ProvisionRefused(_("No key waiting for this box: claim it again."), 403)
    credential.delivered_at = now
    credential.save(update_fields=["delivered_at"])
    secret = secrets.decrypt(credential.secret_encrypted)
    return IssuedCredential(credential, secret), gateway


# Credentials ----------------------------------------------------------------------------


def credential_issue(
    *, gateway: Gateway, created_by: Any = None, valid_until: datetime | None = None
) -> IssuedCredential:
    secret = secrets.new_secret()
    credential = GatewayCredential.objects.create(
        gateway=gateway,
        key_id=f"k_{stdlib_secrets.token_hex(10)}",
        secret_encrypted=secrets.encrypt(secret),
        valid_until=valid_until,
        created_by=created_by,
    )
    return IssuedCredential(credential, secret)


@transaction.atomic
def credential_rotate(*, user: Any, gateway: Gateway) -> GatewayCredential:
    """A new key, delivered with the next heartbeat; the old ones stay valid for an overlap."""
    _require_gateway(user, Action.MANAGE_GATEWAY_KEYS, gateway)
    now = timezone.now()
    overlap_end = now + timedelta(hours=settings.GATEWAY_KEY_ROTATION_OVERLAP_HOURS)
    for old in gateway.credentials.usable(now).filter(delivered_at__isnull=False):
        if old.valid_until is None or old.valid_until > overlap_end:
            old.valid_until = overlap_end
            old.save(update_fields=["valid_until"])
    gateway.credentials.usable(now).filter(delivered_at__isnull=True).update(revoked_at=now)
    return credential_issue(gateway=gateway, created_by=user).credential


def credential_revoke(*, user: Any, credential: GatewayCredential) -> None:
    """Takes effect on the next request: the key is checked on every one."""
    _require_gateway(user, Action.MANAGE_GATEWAY_KEYS, credential.gateway)
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])


def credential_pending_delivery(*, gateway: Gateway) -> IssuedCredential | None:
    """A rotated key the box has not received yet (sent in the heartbeat reply)."""
    if not _was_provisioned(gateway):
        return None  # the first key goes through provisioning, never a heartbeat
    credential = gateway.credentials.usable().filter(delivered_at__isnull=True).first()
    if credential is None:
        return None
    return IssuedCredential(credential, secrets.decrypt(credential.secret_encrypted))


# "Last used" to the minute is enough for staff; a write per signed request is not needed.
LAST_USED_PRECISION = timedelta(minutes=1)


def credential_used(*, credential: GatewayCredential, now: datetime) -> None:
    """Marks a rotated key delivered the first time the box signs with it, and keeps
    `last_used_at` current to the minute (one write a minute, not one per request)."""
    fields = {}
    if credential.delivered_at is None:
        fields["delivered_at"] = now
    last = credential.last_used_at
    if fields or last is None or now - last >= LAST_USED_PRECISION:
        fields["last_used_at"] = now
        GatewayCredential.objects.filter(pk=credential.pk).update(**fields)


# Meter pairing --------------------------------------------------------------------------


def paired_meter_id(*, gateway: Gateway) -> str | None:
    pairing = gateway.pairings.filter(status=PairingStatus.APPROVED).first()
    return pairing.meter_id if pairing else None


@transaction.atomic
def pairing_request(*, user: Any, gateway: Gateway, meter_id: str = "") -> MeterPairing:
    """The household or its installer asks the DSO to let this box read its meter."""
    household = gateway.household
    if household is None:
        raise ValidationError({"gateway": _("Claim the gateway for a household first.")})
    _require_household(user, (Action.INSTALL, Action.CHANGE), household)
    if gateway.pairings.open().exists():
        raise ValidationError({"gateway": _("A pairing is already requested or approved.")})
    pairing = MeterPairing.objects.create(
        gateway=gateway,
        household=household,
        meter_point_id=household.meter_point_id,
        meter_id=meter_id.strip() or gateway.meter_id_seen,
        requested_by=user,
    )
    _auto_approve_if_policy(pairing)
    return pairing


def _auto_approve_if_policy(pairing: MeterPairing) -> None:
    tenant = pairing.gateway.tenant
    if tenant.pairing_auto_approve and pairing.meter_id and pairing.status == "requested":
        _decide(pairing, PairingStatus.APPROVED, decided_by=None)


def _decide(pairing: MeterPairing, status: str, decided_by: Any) -> None:
    pairing.status = status
    pairing.decided_by = decided_by
    pairing.decided_at = timezone.now()
    pairing.save(update_fields=["status", "decided_by", "decided_at", "meter_id"])


@transaction.atomic
def pairing_approve(*, user: Any, pairing: MeterPairing, meter_id: str) -> MeterPairing:
    _require_household(user, (Action.APPROVE_PAIRING,), pairing.household)
    if pairing.status != PairingStatus.REQUESTED:
        raise ValidationError({"status": _("Only a requested pairing can be approved.")})
    meter_id = meter_id.strip()
    if not meter_id:
        raise ValidationError({"meter_id": _("Give the meter's equipment id.")})
    pairing.meter_id = meter_id
    _decide(pairing, PairingStatus.APPROVED, decided_by=user)
    return pairing


@transaction.atomic
def pairing_reject(*, user: Any, pairing: MeterPairing) -> MeterPairing:
    _require_household(user, (Action.APPROVE_PAIRING,), pairing.household)
    if pairing.status != PairingStatus.REQUESTED:
        raise ValidationError({"status": _("Only a requested pairing can be rejected.")})
    _decide(pairing, PairingStatus.REJECTED, decided_by=user)
    return pairing


@transaction.atomic
def pairing_end(*, user: Any, pairing: MeterPairing) -> None:
    """Unpairing stops the flow at once: the next batch with meter readings is refused."""
    _require_household(
        user, (Action.APPROVE_PAIRING, Action.INSTALL, Action.CHANGE), pairing.household
    )
    if pairing.status in (PairingStatus.REQUESTED, PairingStatus.APPROVED):
        pairing.status = PairingStatus.ENDED
        pairing.ended_at = timezone.now()
        pairing.save(update_fields=["status", "ended_at"])


def pairing_state(*, gateway: Gateway) -> tuple[str, str | None]:
    """What the heartbeat reply tells the box: the status and the meter it may read."""
    pairing = gateway.pairings.exclude(status=PairingStatus.ENDED).first()
    if pairing is None:
        return "none", None
    meter_id = pairing.meter_id if pairing.status == PairingStatus.APPROVED else None
    return str(pairing.status), meter_id


# Heartbeats and alarms ------------------------------------------------------------------


def heartbeat_record(*, gateway: Gateway, heartbeat: Any, now: datetime) -> None:
    gateway.firmware_version = heartbeat.firmware_version
    gateway.connectivity = heartbeat.connectivity
    gateway.uptime_s = heartbeat.uptime_s
    gateway.signal_dbm = heartbeat.signal_dbm
    gateway.latency_ms = heartbeat.latency_ms
    gateway.outbox_depth = heartbeat.outbox_depth
    gateway.meter_id_seen = heartbeat.meter_id or gateway.meter_id_seen
    gateway.last_seen_at = now
    gateway.save()
    waiting = gateway.pairings.filter(status=PairingStatus.REQUESTED, meter_id="").first()
    if waiting and heartbeat.meter_id:
        waiting.meter_id = heartbeat.meter_id
        waiting.save(update_fields=["meter_id"])
        _auto_approve_if_policy(waiting)


SEEN_WRITE_EVERY = timedelta(minutes=1)


def gateway_seen(*, gateway: Gateway, now: datetime) -> None:
    """An upload is a sign of life as much as a heartbeat: written at most once a minute."""
    if gateway.last_seen_at is None or now - gateway.last_seen_at >= SEEN_WRITE_EVERY:
        Gateway.objects.filter(pk=gateway.pk).update(last_seen_at=now)
        gateway.last_seen_at = now


def alarm_raise(*, gateway: Gateway, kind: AlarmKind, message: str) -> GatewayAlarm | None:
    """One open alarm per kind and hour: a box stuck on the wrong meter must not flood staff."""
    recent = gateway.alarms.filter(
        kind=kind, acknowledged_at__isnull=True, created_at__gte=timezone.now() - ALARM_REPEAT_AFTER
    )
    if recent.exists():
        return None
    return GatewayAlarm.objects.create(
        gateway=gateway, household=gateway.household, kind=kind, message=message[:300]
    )


def alarm_acknowledge(*, user: Any, alarm: GatewayAlarm) -> None:
    _require_gateway(user, Action.MANAGE_GATEWAY_KEYS, alarm.gateway)
    alarm.acknowledged_at = timezone.now()
    alarm.save(update_fields=["acknowledged_at"])


# Commands -------------------------------------------------------------------------------


def command_issue(
    *,
    user: Any,
    device: Any,
    kind: str,
    params: dict[str, Any] | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> GatewayCommand:
    """An order for the box that drives `device`, by someone who may control it."""
    command_check_control(user=user, device=device)
    if device.gateway_id is None:
        raise ValidationError({"device": _("This device is not connected to a box.")})
    return GatewayCommand.objects.create(
        gateway_id=device.gateway_id, household_id=device.household_id, device=device,
        kind=kind, params=params or {}, not_before=not_before, not_after=not_after,
        created_by=user if getattr(user, "pk", None) else None,
    )  # fmt: skip


def command_withdraw(*, user: Any, command: GatewayCommand) -> bool:
    """Take a command back before it runs: at once if the box has not fetched it, else with
    a `cancel` command that the box applies if the command is still waiting there (it then
    acks it "expired"). False when the box has already started or finished it."""
    if command.device is not None:
        command_check_control(user=user, device=command.device)
    updated = GatewayCommand.objects.filter(
        pk=command.pk, status=CommandStatus.PENDING, sent_at__isnull=True
    ).update(status=CommandStatus.EXPIRED, message="withdrawn before delivery")
    if updated:
        return True
    command.refresh_from_db(fields=["status"])
    if command.status not in (CommandStatus.PENDING, CommandStatus.SENT, CommandStatus.RECEIVED):
        return False
    GatewayCommand.objects.create(
        gateway_id=command.gateway_id, household_id=command.household_id, kind="cancel",
        params={"command_id": str(command.pk)},
        created_by=user if getattr(user, "pk", None) else None,
    )  # fmt: skip
    return True


def command_check_control(*, user: Any, device: Any) -> None:
    from apps.devices.models import Device  # devices hang off households, as gateways do

    if not Device.objects.restrict(user, Action.CONTROL_DEVICES).filter(pk=device.pk).exists():
        raise PermissionDenied(_("You may not control this device."))


def commands_for_box(*, gateway: Gateway, now: datetime) -> list[GatewayCommand]:
    """Commands the box has not acknowledged: re-sent until it does (the box dedupes by id)."""
    waiting = list(gateway.commands.waiting().select_related("device"))
    expired = [c for c in waiting if c.not_after and c.not_after <= now]
    if expired:
        GatewayCommand.objects.filter(pk__in=[c.pk for c in expired]).update(
            status=CommandStatus.EXPIRED
        )
    fresh = [c for c in waiting if c not in expired]
    GatewayCommand.objects.filter(pk__in=[c.pk for c in fresh], sent_at__isnull=True).update(
        sent_at=now, status=CommandStatus.SENT
    )
    return fresh


# What each acknowledgement may follow: a late or repeated ack never moves a command back.
_ACK_ORDER = ["pending", "sent", "received", "started", "done", "failed", "expired"]


@transaction.atomic
def command_acknowledge(
    *, gateway: Gateway, command_id: Any, status: str, message: str
) -> GatewayCommand:
    command = gateway.commands.select_for_update().filter(pk=command_id).first()
    if command is None:
        raise ValidationError({"command_id": _("No such command for this gateway.")})
    if _ACK_ORDER.index(status) > _ACK_ORDER.index(command.status):
        command.status = status
        command.message = message
        command.save(update_fields=["status", "message", "updated_at"])
    return command
