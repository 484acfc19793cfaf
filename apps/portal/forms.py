from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.scheduling.models import ApplianceProgram


class InviteMemberForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"placeholder": _("Email of the person")})
    )
    can_control = forms.BooleanField(label=_("May control devices"), required=False)


class AcceptInvitationSignupForm(UserCreationForm):
    """A new member's account; role and tenant are set by the invitation, never by the form."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name"]


# Appliance planner ----------------------------------------------------------------------


class LocalDateTimeField(forms.DateTimeField):
    """A datetime-local input read as wall-clock time in the household's zone (`zone`).

    Django would read it in the active time zone and answer a DST gap or overlap with a
    generic message; this names what happened on that day instead.
    """

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    zone: ZoneInfo = ZoneInfo("UTC")

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            naive = value.replace(tzinfo=None)
        else:
            try:
                naive = datetime.fromisoformat(str(value).strip()).replace(tzinfo=None)
            except ValueError as error:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from error
        return local_moment(naive, self.zone)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(self.zone).replace(tzinfo=None)
        return value


def local_moment(naive: datetime, zone: ZoneInfo) -> datetime:
    """`naive` as wall-clock time in `zone`, refusing a time the clocks skip or repeat."""
    earlier, later = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    shown = {"time": formats.time_format(naive, "H:i"), "day": formats.date_format(naive)}
    round_trip = earlier.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        raise ValidationError(
            _("%(time)s does not exist on %(day)s: the clocks go forward. Choose another time.")
            % shown,
            code="nonexistent",
        )
    if earlier.utcoffset() != later.utcoffset():
        raise ValidationError(
            _("%(time)s happens twice on %(day)s: the clocks go back. Choose another time.")
            % shown,
            code="ambiguous",
        )
    return earlier


def duration_text(minutes: int) -> str:
    """2 h 45 min, 45 min, 2 h."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(m)d min") % {"m": rest}
    if not rest:
        return _("%(h)d h") % {"h": hours}
    return _("%(h)d h %(m)02d min") % {"h": hours, "m": rest}


def program_label(program: ApplianceProgram) -> str:
    kwh = formats.number_format(Decimal(program.energy_wh) / 1000, 2)
    return _("%(name)s — %(duration)s, %(kwh)s kWh") % {
        "name": program.name, "duration": duration_text(program.duration_minutes), "kwh": kwh
    }  # fmt: skip


class PlanForm(forms.Form):
    """Which programme, done by when (and not before when), in the household's local time."""

    program = forms.ChoiceField(label=_("Appliance and programme"))
    done_by = LocalDateTimeField(label=_("Done by"))
    earliest_start = LocalDateTimeField(
        label=_("Not before"), required=False,
        help_text=_("Leave empty to let it start as soon as it is cheapest."),
    )  # fmt: skip

    def __init__(self, *args: Any, programs: Iterable[ApplianceProgram], zone: ZoneInfo,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.programs = {str(p.pk): p for p in programs}
        groups: dict[str, list[tuple[str, str]]] = {}
        for key, program in self.programs.items():
            groups.setdefault(program.device.name, []).append((key, program_label(program)))
        cast(forms.ChoiceField, self.fields["program"]).choices = list(groups.items())
        for name in ("done_by", "earliest_start"):
            cast(LocalDateTimeField, self.fields[name]).zone = zone

    def clean_program(self) -> ApplianceProgram:
        return self.programs[self.cleaned_data["program"]]  # a valid choice: one of these

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        done_by, earliest = cleaned.get("done_by"), cleaned.get("earliest_start")
        if done_by and earliest and earliest >= done_by:
            self.add_error("earliest_start", _("Choose a time before the “done by” time."))
        return cleaned


class QuietHoursForm(forms.Form):
    """When appliances must not run (e.g. 22:00 to 07:00); both empty: no quiet hours."""

    quiet_start = forms.TimeField(
        label=_("Quiet from"), required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )  # fmt: skip
    quiet_end = forms.TimeField(
        label=_("until"), required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("quiet_start"), cleaned.get("quiet_end")
        if (start is None) != (end is None):
            raise ValidationError(_("Give both times, or neither to have no quiet hours."))
        if start is not None and start == end:
            raise ValidationError(_("Quiet hours must start and end at different times."))
        return cleaned
