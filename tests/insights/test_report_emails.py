"""Report emails: localised (en, fr, nl, it), opt-in only, sent once, in the local morning."""

from __future__ import annotations

import base64
import re
import zlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from apps.households import services as households
from apps.insights import services, tasks
from apps.insights.emails import habits_text, report_context, report_email
from apps.insights.models import ReportSubscription, SentReport, TipState
from apps.insights.pdf import report_pdf
from apps.insights.reports import report_build
from tests.conftest import World
from tests.insights.conftest import WEEK

pytestmark = pytest.mark.django_db

# Monday 26 October 2026, the morning after DST ended: 07:05 in Brussels is 06:05 UTC.
MONDAY_0705 = datetime(2026, 10, 26, 6, 5, tzinfo=UTC)

DATES = {  # the week's first day in each language's DATE_FORMAT
    "en": "Oct. 19, 2026",
    "fr": "19 octobre 2026",
    "nl": "19 oktober 2026",
    "it": "19 Ottobre 2026",
}


def kwh_text(wh: int, language: str) -> str:
    text = f"{Decimal(wh) / 1000:.2f} kWh"
    return text if language == "en" else text.replace(".", ",")


@pytest.mark.parametrize("language", ["en", "fr", "nl", "it"])
def test_the_email_renders_in_each_language(
    world: World, weeks: dict[str, Any], savings: Any, language: str
) -> None:
    report = report_build(household=world.household, period="week", day=WEEK)
    message = report_email(report=report, to="owner@example.invalid", language=language)
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f'<html lang="{language}">' in str(html)
    assert world.household.name in message.subject
    house = kwh_text(report.totals.house_wh or 0, language)
    device = kwh_text(report.devices[0].energy_wh or 0, language)
    pv = kwh_text(report.totals.pv_wh, language)
    cost = f"{report.figures.cost:.2f} EUR"
    cost = cost if language == "en" else cost.replace(".", ",")
    saving = "0.97 EUR" if language == "en" else "0,97 EUR"
    for body in (message.body, str(html)):
        assert DATES[language] in body
        assert house in body and device in body and cost in body and saving in body
        assert pv in body
        assert report.devices[0].name in body
    assert DATES[language] in message.subject


def test_only_opted_in_households_get_reports(world: World, weeks: dict[str, Any]) -> None:
    owner, member = world.users["household_owner"], world.users["household_member"]
    ReportSubscription.objects.create(household=world.household, user=owner)  # all off
    neighbour = world.users["neighbour_owner"]
    services.subscription_set(
        household=world.neighbour, user=neighbour, daily=False, weekly=True, monthly=False
    )
    services.subscription_set(
        household=world.household, user=member, daily=True, weekly=False, monthly=False
    )
    assert services.reports_send_due(now=MONDAY_0705) == 2
    sent = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert [to for to, _ in sent] == [member.email, neighbour.email]
    assert SentReport.objects.filter(user=owner).count() == 0
    assert set(SentReport.objects.values_list("user_id", "period", "start")) == {
        (member.pk, "day", date(2026, 10, 25)),
        (neighbour.pk, "week", WEEK),
    }


def test_a_user_cannot_subscribe_to_a_household_they_cannot_read(world: World) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.subscription_set(
            household=world.neighbour, user=world.users["household_owner"],
            daily=True, weekly=True, monthly=True,
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.subscription_set(
            household=world.household, user=world.users["installer"],
            daily=True, weekly=False, monthly=False,
        )  # fmt: skip


def test_a_removed_member_gets_no_more_reports(world: World, weeks: dict[str, Any]) -> None:
    member = world.users["household_member"]
    services.subscription_set(
        household=world.household, user=member, daily=True, weekly=True, monthly=True
    )
    households.member_remove(
        household=world.household, user=member, removed_by=world.users["household_owner"]
    )
    assert services.reports_send_due(now=MONDAY_0705) == 0
    assert mail.outbox == []


def test_a_second_run_sends_nothing_again(
    world: World, weeks: dict[str, Any], subscribed: ReportSubscription
) -> None:
    assert services.reports_send_due(now=MONDAY_0705) == 2  # yesterday and last week
    assert services.reports_send_due(now=MONDAY_0705 + timedelta(minutes=20)) == 0
    assert (
        services.report_send(subscription_id=subscribed.pk, period="week", first_day=WEEK) is False
    )
    assert len(mail.outbox) == 2
    assert SentReport.objects.count() == 2


def test_the_hourly_beat_across_the_morning_sends_each_report_once(
    world: World, weeks: dict[str, Any], subscribed: ReportSubscription
) -> None:
    """The beat runs every hour; it is 06:05 local, then 07:05 (the reports go), then
    08:05 (a catch-up hour: nothing left), on the Monday after DST ended."""
    counts = []
    for hours in (-1, 0, 1, 2):
        with time_machine.travel(MONDAY_0705 + timedelta(hours=hours), tick=False):
            counts.append(tasks.send_due_reports.delay().get())
    assert counts == [0, 2, 0, 0]
    subjects = sorted(m.subject for m in mail.outbox)
    assert len(subjects) == 2
    assert any("Oct. 25, 2026" in s for s in subjects)  # yesterday, a 25-hour day
    assert any("Oct. 19, 2026" in s and "Oct. 25, 2026" in s for s in subjects)  # the week


def test_a_failed_send_is_retried_not_lost(
    world: World, weeks: dict[str, Any], subscribed: ReportSubscription, monkeypatch: Any
) -> None:
    from django.core.mail import EmailMultiAlternatives

    def broken(self: Any, fail_silently: bool = False) -> int:
        raise OSError("SMTP down")

    with monkeypatch.context() as patch:
        patch.setattr(EmailMultiAlternatives, "send", broken)
        with pytest.raises(OSError):
            services.reports_send_due(now=MONDAY_0705)
    assert SentReport.objects.count() == 0
    assert services.reports_send_due(now=MONDAY_0705 + timedelta(hours=1)) == 2


def test_monthly_on_the_first_and_in_the_users_language(
    world: World, subscribed: ReportSubscription
) -> None:
    owner = world.users["household_owner"]
    owner.language = ""  # the tenant's language: nl
    owner.save()
    first_of_november = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 07:30 in Brussels
    assert services.reports_send_due(now=first_of_november) == 2  # day and month (a Sunday)
    periods = set(SentReport.objects.values_list("period", "start", "language"))
    assert periods == {("day", date(2026, 10, 31), "nl"), ("month", date(2026, 10, 1), "nl")}
    assert any("oktober 2026" in m.subject for m in mail.outbox)
    assert services.reports_send_due(now=first_of_november + timedelta(hours=5)) == 0  # 12:30


@pytest.mark.parametrize(
    ("language", "title"),
    [("fr", "Votre semaine"), ("nl", "Uw week"), ("it", "La tua settimana"), ("en", "Your week")],
)
def test_the_week_title_is_translated(
    world: World, weeks: dict[str, Any], language: str, title: str
) -> None:
    from apps.insights.emails import period_title

    report = report_build(household=world.household, period="week", day=WEEK)
    from django.utils import translation

    with translation.override(language):
        assert period_title(report).startswith(title)


def pdf_text(pdf: bytes) -> str:
    """The text drawn in a reportlab PDF (its streams: ASCII85, then zlib)."""
    streams = re.findall(rb"\bstream\r?\n(.*?)endstream", pdf, re.S)
    return "".join(
        zlib.decompress(base64.a85decode(s.strip().removesuffix(b"~>"))).decode("latin-1")
        for s in streams
    )


@pytest.fixture
def habits(world: World) -> None:
    """One tip done during the DST week (42.50 a year), one open."""
    at = datetime(2026, 10, 20, 9, tzinfo=UTC)
    for kind, status in (("standby", "done"), ("shift_to_cheaper_hours", "open")):
        TipState.objects.create(
            household=world.household, kind=kind, status=status, eur_per_year=Decimal("42.50"),
            first_seen_at=at, updated_at=at, done_at=at if status == "done" else None,
        )  # fmt: skip


@override_settings(SITE_URL="https://heb.example/")
@pytest.mark.parametrize("language", ["en", "fr", "nl", "it"])
def test_the_email_shows_the_habits_and_links_to_the_page(
    world: World, weeks: dict[str, Any], habits: None, language: str
) -> None:
    report = report_build(household=world.household, period="week", day=WEEK)
    message = report_email(report=report, to="owner@example.invalid", language=language)
    html = str(message.alternatives[0][0])
    path = reverse("portal:report", args=[world.household.pk, "week", "2026-10-19"])
    link = f"https://heb.example{path}"
    assert link in message.body and f'href="{link}"' in html
    with translation.override(language):
        line = habits_text(report.habits, "EUR")
    assert ("42.50" if language == "en" else "42,50") in line
    assert line in message.body and escape(line) in html


def test_the_pdf_shows_the_habits(world: World, weeks: dict[str, Any], habits: None) -> None:
    report = report_build(household=world.household, period="week", day=WEEK)
    with translation.override("en"):
        text = pdf_text(report_pdf(report_context(report)))
    assert "Saving habits" in text
    assert "1 tip done so far, worth 42.50 EUR a year" in text and "1 open tip" in text


@override_settings(SITE_URL="https://heb.example")
def test_a_sent_report_links_to_its_page(world: World, subscribed: ReportSubscription) -> None:
    assert services.reports_send_due(now=MONDAY_0705) == 2  # yesterday's and last week's
    path = reverse("portal:report", args=[world.household.pk, "week", WEEK.isoformat()])
    week = next(m for m in mail.outbox if f"https://heb.example{path}" in m.body)
    assert f'href="https://heb.example{path}"' in str(week.alternatives[0][0])
