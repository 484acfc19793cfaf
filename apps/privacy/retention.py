"""Retention limits: data older than its limit (settings `PRIVACY_RETENTION_*`) is deleted.

Each rule names a table, the time that ages its rows and the setting that bounds it; the
values and why they were chosen are in config/settings/base.py ("Privacy: retention
limits"). Raw readings are not here: the telemetry app drops their monthly partitions
(`TELEMETRY_RAW_RETENTION_DAYS`). Kept for the household's lifetime, on purpose: daily and
monthly rollups (bills and year-on-year comparisons), consent decisions and their history
(the proof of consent, GDPR art. 7(1)) and the data-rights audit.

Rows go in chunks, each in its own short transaction: the clean-up never holds locks on
a big table for long, and an interrupted run simply continues the next day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from apps.energy.models import DeviceEnergy, HouseholdEnergy
from apps.energy.models import Resolution as RollupResolution
from apps.fleet.models import CommandStatus, GatewayCommand
from apps.forecasting.models import Forecast
from apps.households.models import Invitation
from apps.insights.models import SentReport
from apps.live.models import Notification, OverloadEpisode
from apps.privacy.models import AccessLogEntry, DataRightsKind, DataRightsRecord
from apps.scheduling.models import DailyPlan, PlanRequest, PlanStatus
from apps.telemetry.models import GuardAction, IngestedBatch

CHUNK_ROWS = 2000
FINE_ROLLUPS = Q(resolution__in=[RollupResolution.QUARTER, RollupResolution.HOUR])
FINISHED_COMMANDS = Q(status__in=[CommandStatus.DONE, CommandStatus.FAILED, CommandStatus.EXPIRED])
FINISHED_PLANS = ~Q(status__in=[PlanStatus.PLANNED, PlanStatus.STARTED])


@dataclass(frozen=True)
class RetentionRule:
    model: type[Model]
    time_field: str  # the row's age is measured from this time (or date)
    setting: str  # the limit in days
    only: Q = field(default_factory=Q)  # rows the rule applies to (e.g. fine rollups only)

    def cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=getattr(settings, self.setting))

    def expired(self, now: datetime) -> Any:
        cutoff: Any = self.cutoff(now)
        if self.model._meta.get_field(self.time_field).get_internal_type() == "DateField":
            cutoff = cutoff.date()
        return self.model._base_manager.filter(self.only, **{f"{self.time_field}__lt": cutoff})


RULES = (
    RetentionRule(HouseholdEnergy, "start", "PRIVACY_RETENTION_FINE_ROLLUP_DAYS", FINE_ROLLUPS),
    RetentionRule(DeviceEnergy, "start", "PRIVACY_RETENTION_FINE_ROLLUP_DAYS", FINE_ROLLUPS),
    RetentionRule(AccessLogEntry, "at", "PRIVACY_RETENTION_ACCESS_LOG_DAYS"),
    RetentionRule(Notification, "created_at", "PRIVACY_RETENTION_NOTIFICATION_DAYS"),
    RetentionRule(
        OverloadEpisode, "started_at", "PRIVACY_RETENTION_OVERLOAD_DAYS", Q(ended_at__isnull=False)
    ),
    RetentionRule(GuardAction, "time", "PRIVACY_RETENTION_OVERLOAD_DAYS"),
    RetentionRule(Forecast, "day", "PRIVACY_RETENTION_FORECAST_DAYS"),
    RetentionRule(DailyPlan, "day", "PRIVACY_RETENTION_PLAN_DAYS"),
    RetentionRule(PlanRequest, "done_by", "PRIVACY_RETENTION_PLAN_DAYS", FINISHED_PLANS),
    RetentionRule(GatewayCommand, "created_at", "PRIVACY_RETENTION_PLAN_DAYS", FINISHED_COMMANDS),
    RetentionRule(SentReport, "start", "PRIVACY_RETENTION_SENT_REPORT_DAYS"),
    RetentionRule(Invitation, "expires_at", "PRIVACY_RETENTION_INVITATION_DAYS"),
    RetentionRule(IngestedBatch, "received_at", "PRIVACY_RETENTION_UPLOAD_LOG_DAYS"),
)


def _delete_in_chunks(rule: RetentionRule, now: datetime, counts: dict[str, int]) -> None:
    """Deletes the rule's expired rows a chunk at a time; cascaded rows are counted too."""
    expired = rule.expired(now)
    while True:
        with transaction.atomic():
            chunk = list(expired.values_list("pk", flat=True)[:CHUNK_ROWS])
            if not chunk:
                return
            _, per_model = rule.model._base_manager.filter(pk__in=chunk).delete()
        for label, count in per_model.items():
            counts[label] = counts.get(label, 0) + count


def retention_enforce(*, now: datetime | None = None) -> DataRightsRecord:
    """Deletes everything older than its limit; the record says how much of each went."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    for rule in RULES:
        _delete_in_chunks(rule, now, counts)
    return DataRightsRecord.objects.create(
        kind=DataRightsKind.RETENTION,
        requested_by_name="retention schedule",
        counts={label: count for label, count in counts.items() if count},
        finished_at=timezone.now(),
    )
