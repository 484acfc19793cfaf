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

from apps.accounts.forms import RefusePrivilegedFieldsMixin
from apps.accounts.models import User
from apps.scheduling.models import ApplianceProgram
from apps.scheduling.rules import MAX_WINDOWS


class InviteMemberForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"placeholder": _("Email of the person")})
    )
    can_control = forms.BooleanField(label=_("May control devices"), required=False)


class AcceptInvitationSignupForm(RefusePrivilegedFieldsMixin, UserCreationForm):
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


# Interruptible loads: the car's night charging and the water heater ---------------------

TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
EN_DASH = "\u2013"  # between a range's ends, as shown ("23:00\u201302:15")
RANGE_DASHES = (EN_DASH, "\u2014", "-", " to ")


def _energy_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=5, decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.5", "min": "0"}),
    )  # fmt: skip


def _power_field(label: Any, help_text: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=5, decimal_places=2, required=False, min_value=Decimal("0.1"),
        help_text=help_text, widget=forms.NumberInput(attrs={"step": "0.1", "min": "0.1"}),
    )  # fmt: skip


class _RuleForm(forms.Form):
    def clean_energy_kwh(self) -> Decimal:
        value: Decimal = self.cleaned_data["energy_kwh"]
        if value <= 0:
            raise ValidationError(_("Give an energy above 0 kWh."), code="min_value")
        return value


class EvRuleForm(_RuleForm):
    """Every night: this much energy into the car, ready by the departure time."""

    departure = forms.TimeField(label=_("Ready by"), widget=TIME_INPUT)
    energy_kwh = _energy_field(_("Energy to add per night (kWh)"))
    max_kw = _power_field(_("Max charging power (kW)"), _("Empty: the charger's rated power."))
    active = forms.BooleanField(label=_("Smart charging on"), required=False)


def parse_windows(text: str) -> list[list[str]]:
    """ "22:00-07:00, 12:00-16:00" as [["22:00", "07:00"], ["12:00", "16:00"]] (an en dash
    or "to" between the ends too; an end before the start wraps past midnight)."""
    ranges = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    message = _("Give up to %(n)d time ranges such as “22:00-07:00, 12:00-16:00”.") % {
        "n": MAX_WINDOWS
    }
    if not ranges or len(ranges) > MAX_WINDOWS:
        raise ValidationError(message, code="invalid")
    windows = []
    for part in ranges:
        for dash in RANGE_DASHES:
            part = part.replace(dash, "|")
        ends = [end.strip() for end in part.split("|")]
        if len(ends) != 2:
            raise ValidationError(message, code="invalid")
        try:
            begin, end = (datetime.strptime(value, "%H:%M").time() for value in ends)
        except ValueError as error:
            raise ValidationError(message, code="invalid") from error
        if begin == end:
            raise ValidationError(
                _("%(range)s starts and ends at the same time.") % {"range": EN_DASH.join(ends)},
                code="empty",
            )
        windows.append([begin.strftime("%H:%M"), end.strftime("%H:%M")])
    return windows


def windows_text(windows: Iterable[Iterable[str]]) -> str:
    return ", ".join(EN_DASH.join(pair) for pair in windows)


class WaterHeaterRuleForm(_RuleForm):
    """Every day: this much energy into the water, only in the allowed hours."""

    energy_kwh = _energy_field(_("Energy per day (kWh)"))
    windows = forms.CharField(
        label=_("Allowed hours"), max_length=60, initial=f"22:00{EN_DASH}07:00",
        help_text=_("Up to 3 ranges, e.g. 22:00-07:00, 12:00-16:00 (past midnight is fine)."),
    )  # fmt: skip
    max_kw = _power_field(_("Max heating power (kW)"), _("Empty: the heater's rated power."))
    active = forms.BooleanField(label=_("Smart heating on"), required=False)

    def clean_windows(self) -> list[list[str]]:
        return parse_windows(self.cleaned_data["windows"])


class BatteryRuleForm(forms.Form):
    """The home battery planned with the tariff, never below its reserve."""

    capacity_kwh = forms.DecimalField(
        label=_("Usable capacity (kWh)"), max_digits=5, decimal_places=2,
        min_value=Decimal("0.1"), widget=forms.NumberInput(attrs={"step": "0.1", "min": "0.1"}),
    )  # fmt: skip
    max_charge_kw = _power_field(
        _("Max charging power (kW)"), _("Empty: the battery's rated power.")
    )
    max_discharge_kw = _power_field(
        _("Max discharging power (kW)"), _("Empty: the battery's rated power.")
    )
    reserve_pct = forms.IntegerField(
        label=_("Reserve (%)"), min_value=0, max_value=90, initial=10,
        help_text=_("The plan never empties the battery below this charge level."),
        widget=forms.NumberInput(attrs={"step": "5", "min": "0", "max": "90"}),
    )  # fmt: skip
    active = forms.BooleanField(label=_("Smart battery on"), required=False)
