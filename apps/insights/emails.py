"""The report as the reader sees it: figures formatted in the active language, and the
email (text and HTML) rendered in the recipient's language.

`report_context` is shared by the email, the portal page and the PDF, so the three show
the same numbers and sentences (the habits line, the social comparison) formatted the
same way for a given language. The email links to the report's page in the portal at
`settings.SITE_URL`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.insights.comparison import Comparison
from apps.insights.reports import Figures, Habits, HouseholdReport, kwh


def number(value: Decimal | float | None, places: int = 2) -> str:
    """A number in the active language's format (12.34 / 12,34); '—' when unknown."""
    if value is None:
        return "—"
    return formats.number_format(value, decimal_pos=places, use_l10n=True)


def energy(wh: int | None) -> str:
    value = kwh(wh)
    return "—" if value is None else f"{number(value, 2)} kWh"


def money(amount: Decimal | None, currency: str) -> str:
    return "—" if amount is None else f"{number(amount, 2)} {currency}"


def change(now: Decimal | int | None, before: Decimal | int | None) -> str:
    if now is None or not before:
        return ""
    percent = (Decimal(now) - Decimal(before)) / Decimal(before) * 100
    return f"{'+' if percent > 0 else ''}{number(percent, 0)} %"


def period_title(report: HouseholdReport) -> str:
    first = formats.date_format(report.first_day, "DATE_FORMAT")
    if report.period == "day":
        return _("Your day: %(date)s") % {"date": first}
    last = formats.date_format(report.last_day, "DATE_FORMAT")
    if report.period == "week":
        # The en dash stays out of the msgid: gettext's extraction mangles a \u escape.
        return _("Your week: %(span)s") % {"span": f"{first} \u2013 {last}"}
    return _("Your month: %(month)s") % {
        "month": formats.date_format(report.first_day, "YEAR_MONTH_FORMAT")
    }


def _comparison(label: str, now: Figures, before: Figures | None, currency: str) -> dict:
    if before is None:
        return {"label": label, "available": False, "text": _("no data for that period")}
    return {
        "label": label,
        "available": True,
        "first_day": formats.date_format(before.first_day, "DATE_FORMAT"),
        "energy": energy(before.house_wh),
        "energy_change": change(now.house_wh, before.house_wh),
        "cost": money(before.cost, currency),
        "cost_change": change(now.cost, before.cost),
    }


def habits_text(habits: Habits, currency: str) -> str:
    """The tips taken up and what they are worth, and the tips still open, in one line."""
    if habits.done:
        done = ngettext(
            "%(counter)s tip done so far, worth %(worth)s %(currency)s a year",
            "%(counter)s tips done so far, worth %(worth)s %(currency)s a year",
            habits.done,
        ) % {"counter": habits.done, "worth": number(habits.done_per_year), "currency": currency}
    else:
        done = _("no tip done yet")
    still_open = ngettext("%(counter)s open tip", "%(counter)s open tips", habits.open) % {
        "counter": habits.open
    }
    return f"{done} · {still_open}"


def percentile_text(comparison: Comparison) -> str:
    """Where the household stands in its group, in plain words ("" when not shown)."""
    if not comparison.available or comparison.percentile is None:
        return ""
    less = comparison.percentile
    if less <= 20:
        return _("You are among the most efficient: only %(less)s %% of them used less.") % {
            "less": less
        }
    if less >= 80:
        return _("You used more than most of them: %(less)s %% used less.") % {"less": less}
    return _("%(less)s %% of them used less than you, %(more)s %% more.") % {
        "less": less,
        "more": 100 - less,
    }


def comparison_context(comparison: Comparison | None) -> dict[str, Any] | None:
    """The month against similar households in words; None for a day's or a week's report."""
    if comparison is None:
        return None
    if not comparison.available:
        return {"available": False, "text": comparison.reason}
    return {
        "available": True,
        "group": comparison.group,
        "size": comparison.group_size,
        "text": percentile_text(comparison),
        "median": f"{number(comparison.median_kwh, 1)} kWh",
        "efficient": f"{number(comparison.efficient_kwh, 1)} kWh",
    }


def report_url(report: HouseholdReport) -> str:
    """The report's page in the portal, as an absolute link for the email."""
    path = reverse(
        "portal:report",
        args=[report.household.pk, report.period, report.first_day.isoformat()],
    )
    return settings.SITE_URL.rstrip("/") + path


def report_context(report: HouseholdReport) -> dict[str, Any]:
    """Every figure of the report as text in the active language."""
    t, c = report.totals, report.currency
    zone = report.energy.zone
    peak = None
    if report.peak:
        local = timezone.localtime(report.peak.start, zone)
        peak = {
            "when": formats.date_format(local, "SHORT_DATETIME_FORMAT"),
            "kw": number(Decimal(report.peak.import_w) / 1000, 2),
        }
    sufficiency = t.self_sufficiency
    return {
        "report": report,
        "household": report.household,
        "title": period_title(report),
        "currency": c,
        "house": energy(t.house_wh),
        "import": energy(t.import_wh),
        "export": energy(t.export_wh),
        "has_pv": bool(t.pv_wh or t.export_wh),
        "pv": energy(t.pv_wh),
        "self_consumed": energy(t.self_consumed_wh),
        "self_sufficiency": "—" if sufficiency is None else f"{number(sufficiency * 100, 0)} %",
        "cost": money(report.figures.cost, c),
        "cost_error": report.cost_error,
        "incomplete": bool(t.gap_bars),
        "devices": [
            {
                "name": d.name,
                "kind": d.kind,
                "energy": energy(d.energy_wh),
                "cost": money(d.cost, c),
                "incomplete": d.incomplete,
            }
            for d in report.devices
        ],
        "peak": peak,
        "overloads": [
            {
                "when": formats.date_format(
                    timezone.localtime(e.started_at, zone), "SHORT_DATETIME_FORMAT"
                ),
                "level": e.get_level_display(),
                "peak_kva": number(Decimal(e.peak_va) / 1000, 2),
            }
            for e in report.overloads
        ],
        "comparisons": [
            _comparison(_("Previous period"), report.figures, report.previous, c),
            _comparison(_("Same period last year"), report.figures, report.last_year, c),
        ],
        "savings": {
            "programmes": report.savings.programmes,
            "daily_plans": report.savings.daily_plans,
            "total": money(report.savings.total, c),
            "any": bool(report.savings.programmes or report.savings.daily_plans),
        },
        "habits": habits_text(report.habits, c),
        "social": comparison_context(report.comparison),
    }


def report_email(
    *, report: HouseholdReport, to: str, language: str, page_url: str | None = None
) -> EmailMultiAlternatives:
    """The report's email in `language`: a text body and its HTML alternative, linking to
    the report's page (`page_url`, by default `report_url(report)`)."""
    page_url = report_url(report) if page_url is None else page_url
    with translation.override(language):
        context = report_context(report) | {"page_url": page_url, "language": language}
        subject = _("%(household)s · %(title)s") % {
            "household": report.household.name,
            "title": context["title"],
        }
        text = render_to_string("insights/email/report.txt", context)
        html = render_to_string("insights/email/report.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    message.attach_alternative(html, "text/html")
    return message
