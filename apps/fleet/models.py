from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import UUIDModel
from apps.households.querysets import HouseholdOwnedQuerySet


class Connectivity(models.TextChoices):
    DSL = "dsl", "DSL"
    CELLULAR_3G = "3g", "3G"


class GatewayQuerySet(HouseholdOwnedQuerySet["Gateway"]):
    tenant_field = "tenant"


class Gateway(UUIDModel):
    """A Home Energy Box. It belongs to a tenant's fleet, and to a household once claimed."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="gateways")
    household = models.ForeignKey(
        "households.Household",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="gateways",
    )
    serial = models.CharField(_("serial"), max_length=32, unique=True)
    firmware_version = models.CharField(_("firmware"), max_length=32, blank=True)
    connectivity = models.CharField(
        _("connectivity"), max_length=8, choices=Connectivity.choices, default=Connectivity.DSL
    )
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    # Factory claim code, hashed: the label on the box, proof of physical access.
    claim_code_hash = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the last heartbeat said.
    uptime_s = models.PositiveIntegerField(null=True, blank=True)
    signal_dbm = models.SmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    outbox_depth = models.PositiveIntegerField(null=True, blank=True)
    meter_id_seen = models.CharField(_("meter seen"), max_length=64, blank=True)

    objects = GatewayQuerySet.as_manager()

    class Meta:
        ordering = ["serial"]

    def __str__(self) -> str:
        return self.serial


class GatewayCredentialQuerySet(models.QuerySet["GatewayCredential"]):
    def usable(self, at: datetime | None = None) -> GatewayCredentialQuerySet:
        """Keys that sign requests now: started, not expired, not revoked."""
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True, valid_from__lte=at).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=at)
        )


class GatewayCredential(UUIDModel):
    """A gateway's HMAC key. Several may be usable at once, so rotation needs no downtime.

    The server must hold the secret itself to verify HMACs, so it is kept encrypted
    (Fernet, keys from GATEWAY_SECRET_KEYS) and shown to nobody: it travels once, to the box.
    """

    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="credentials")
    key_id = models.CharField(max_length=40, unique=True)
    secret_encrypted = models.TextField()
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = GatewayCredentialQuerySet.as_manager()

    class Meta:
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return self.key_id

    def is_usable(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        return (
            self.revoked_at is None
            and self.valid_from <= at
            and (self.valid_until is None or self.valid_until > at)
        )


class PairingStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    ENDED = "ended", _("Unpaired")


class MeterPairingQuerySet(HouseholdOwnedQuerySet["MeterPairing"]):
    def open(self) -> MeterPairingQuerySet:
        """Requested or approved: at most one per gateway."""
        return self.filter(status__in=[PairingStatus.REQUESTED, PairingStatus.APPROVED])


class MeterPairing(UUIDModel):
    """The DSO's consent that this gateway reads this meter, and nothing else."""

    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="pairings")
    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="meter_pairings"
    )
    meter_point_id = models.CharField(_("meter point id"), max_length=18)
    meter_id = models.CharField(
        _("meter equipment id"),
        max_length=64,
        blank=True,
        help_text=_("The serial the meter sends on its port; the gateway may send only this."),
    )
    status = models.CharField(
        max_length=12, choices=PairingStatus.choices, default=PairingStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = MeterPairingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway"],
                condition=Q(status__in=["requested", "approved"]),
                name="meter_pairing_one_open_per_gateway",
            )
        ]

    def __str__(self) -> str:
        return f"{self.gateway} ↔ {self.meter_id or self.meter_point_id} ({self.status})"


class AlarmKind(models.TextChoices):
    WRONG_METER = "wrong_meter", _("Readings from an unpaired meter")
    BAD_SIGNATURE = "bad_signature", _("Badly signed requests")
    REVOKED_KEY = "revoked_key", _("Requests with a revoked or expired key")
    REPEATED_OVERLOAD = "repeated_overload", _("Repeated overloads")


class GatewayAlarmQuerySet(HouseholdOwnedQuerySet["GatewayAlarm"]):
    tenant_field = "gateway__tenant"


class GatewayAlarm(UUIDModel):
    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="alarms")
    household = models.ForeignKey(
        "households.Household", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=AlarmKind.choices)
    message = models.CharField(max_length=300)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    objects = GatewayAlarmQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.gateway}: {self.get_kind_display()}"


class CommandStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the box")
    SENT = "sent", _("Sent to the box")
    RECEIVED = "received", _("Received by the box")
    STARTED = "started", _("Started")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class GatewayCommandQuerySet(HouseholdOwnedQuerySet["GatewayCommand"]):
    tenant_field = "gateway__tenant"

    def waiting(self) -> GatewayCommandQuerySet:
        """Not yet acknowledged by the box: sent again at each poll until it is."""
        return self.filter(status__in=[CommandStatus.PENDING, CommandStatus.SENT])


class GatewayCommand(UUIDModel):
    """An order for the box (switch a device, start a program), executed even while offline."""

    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="commands")
    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="gateway_commands"
    )
    device = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, null=True, blank=True, related_name="commands"
    )
    kind = models.CharField(max_length=20)  # gateway_agent.protocol.CommandKind
    params = models.JSONField(default=dict, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    not_after = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=CommandStatus.choices, default=CommandStatus.PENDING
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    message = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = GatewayCommandQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
