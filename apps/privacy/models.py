"""Consent, the access log and the audit of data-rights requests.

A household's consent is one decision per recipient, purpose and resolution (never one
bundled checkbox); where it has not decided, the defaults in force apply (`consent.py`).
Every change is appended to `ConsentEvent`; every read finer than daily to `AccessLogEntry`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.models import UUIDModel
from apps.core.permissions import Role


class Resolution(models.TextChoices):
    RAW = "raw", _("Live readings (every few seconds)")
    QUARTER = "15m", _("Every 15 minutes")
    HALF_HOUR = "30m", _("Every 30 minutes")
    HOUR = "1h", _("Hourly")
    DAY = "1d", _("Daily")
    MONTH = "1mo", _("Monthly")


class Purpose(models.TextChoices):
    OWN_USE = "own_use", _("The household's own use")
    BILLING = "billing", _("Billing")
    GRID_OPERATION = "grid_operation", _("Grid operation")
    ENERGY_SERVICES = "energy_services", _("Energy services")
    MARKETING = "marketing", _("Marketing")
    RESEARCH = "research", _("Research")


class RecipientKind(models.TextChoices):
    DSO = "dso", _("The distribution network operator")
    TELCO = "telco", _("The telco running the energy box")
    THIRD_PARTY = "third_party", _("A third party")


class ConsentDecision(UUIDModel):
    """The household's current answer for one cell: recipient, purpose and resolution.

    Its id is the consent id the access log cites; a withdrawal flips `granted` on the
    same row, so the log keeps pointing at the decision that allowed each past read.
    """

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="consent_decisions"
    )
    recipient_kind = models.CharField(max_length=16, choices=RecipientKind.choices)
    third_party = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="consents_received",
    )
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    resolution = models.CharField(max_length=4, choices=Resolution.choices)
    granted = models.BooleanField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household", "recipient_kind", "purpose", "resolution"],
                condition=Q(third_party__isnull=True),
                name="privacy_one_decision_per_cell",
            ),
            models.UniqueConstraint(
                fields=["household", "third_party", "purpose", "resolution"],
                condition=Q(third_party__isnull=False),
                name="privacy_one_third_party_decision_per_cell",
            ),
            models.CheckConstraint(
                condition=Q(recipient_kind="third_party", third_party__isnull=False)
                | (~Q(recipient_kind="third_party") & Q(third_party__isnull=True)),
                name="privacy_third_party_named_iff_third_party",
            ),
        ]


class ConsentEvent(models.Model):
    """Append-only history of consent changes (who changed what, when, from where)."""

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="consent_events"
    )
    decision = models.ForeignKey(ConsentDecision, on_delete=models.CASCADE, related_name="events")
    granted = models.BooleanField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.decision_id} {'granted' if self.granted else 'refused'} at {self.at}"


class AccessBasis(models.TextChoices):
    OWN = "own", _("The household's own access")
    CONTRACT = "contract", _("Needed for billing (no consent required)")
    DEFAULT = "default", _("Allowed unless the household objects")
    CONSENT = "consent", _("The household's consent")


class AccessLogEntry(models.Model):
    """One read of a household's data finer than daily: who, as what, why, how finely."""

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="access_log"
    )
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reader_name = models.CharField(max_length=150)
    role = models.CharField(max_length=32, choices=Role.choices)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    basis = models.CharField(max_length=16, choices=AccessBasis.choices)
    consent = models.ForeignKey(
        ConsentDecision, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=4, choices=Resolution.choices)
    period_start = models.DateTimeField(null=True)
    period_end = models.DateTimeField(null=True)
    what = models.CharField(max_length=120)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["household", "-at"], name="privacy_log_household_at")]

    def __str__(self) -> str:
        return f"{self.reader_name} read {self.what} at {self.resolution} ({self.at})"


class DataRightsKind(models.TextChoices):
    EXPORT = "export", pgettext_lazy("a copy of the household's data", "Export")
    ERASURE = "erasure", _("Erasure")
    RETENTION = "retention", _("Retention clean-up")


class DataRightsRecord(UUIDModel):
    """Audit of an export, an erasure or a retention clean-up.

    Keeps the household's id, not a foreign key, so the record outlives an erasure; it
    holds counts per kind of data, never the data itself.
    """

    kind = models.CharField(max_length=16, choices=DataRightsKind.choices)
    household_id = models.UUIDField(null=True, db_index=True)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_by_name = models.CharField(max_length=150, blank=True)
    counts = models.JSONField(default=dict)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-created_at"]
