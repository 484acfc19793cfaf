"""The report page, its CSV and PDF, through the data-access policy."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.insights.reports import report_build
from tests.conftest import World, mfa_login
from tests.insights.conftest import WEEK

pytestmark = pytest.mark.django_db


def url(household: Any, period: str = "week", day: str = WEEK.isoformat()) -> str:
    return reverse("portal:report", args=[household.pk, period, day])


def client_for(world: World, role: str) -> Client:
    client = Client()
    mfa_login(client, world.users[role])
    return client


@pytest.mark.parametrize(
    ("role", "period", "status"),
    [
        ("household_owner", "day", 200),
        ("household_owner", "week", 200),
        ("household_member", "month", 200),
        ("neighbour_owner", "week", 404),
        ("abroad_owner", "month", 404),
        ("installer", "week", 404),  # no consumption scope
        ("platform_admin", "week", 404),
        ("dso_staff", "day", 200),  # daily data is the DSO's finest without consent
        ("dso_staff", "month", 200),
        ("third_party", "week", 404),  # no grant on this household: outside its scope
    ],
)
def test_access_matrix(world: World, role: str, period: str, status: int) -> None:
    for fmt in ("", "?format=csv", "?format=pdf"):
        response = client_for(world, role).get(url(world.household, period) + fmt)
        assert response.status_code == status, (fmt, response.status_code)


def test_a_third_party_with_a_grant_still_needs_consent(world: World) -> None:
    from guardian.shortcuts import assign_perm

    assign_perm("households.view_consumption", world.users["third_party"], world.household)
    response = client_for(world, "third_party").get(url(world.household, "month"))
    assert response.status_code == 403


def test_anonymous_is_sent_to_log_in(world: World) -> None:
    response = Client().get(url(world.household))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize(
    "bad", [("year", "2026-10-19"), ("week", "19-10-2026"), ("day", "0001-01-01")]
)
def test_bad_period_or_date_is_404(world: World, bad: tuple[str, str]) -> None:
    response = client_for(world, "household_owner").get(url(world.household, *bad))
    assert response.status_code == 404


def test_the_page_shows_the_report(world: World, weeks: dict[str, Any]) -> None:
    report = report_build(household=world.household, period="week", day=WEEK)
    response = client_for(world, "household_owner").get(url(world.household))
    body = response.content.decode()
    assert f"{report.figures.cost:.2f} EUR" in body  # the owner's language is en
    assert 'data-testid="report-peak"' in body and 'data-testid="report-overloads"' in body
    assert "no data for that period" in body  # a year ago
    assert world.devices["ours"].name in body
    assert str(world.neighbour.pk) not in body


def test_dso_staff_see_no_quarter_hours(world: World, weeks: dict[str, Any]) -> None:
    body = client_for(world, "dso_staff").get(url(world.household)).content.decode()
    assert 'data-testid="report-house"' in body
    assert 'data-testid="report-peak"' not in body and "report-overloads" not in body


def test_csv_download(world: World, weeks: dict[str, Any]) -> None:
    report = report_build(household=world.household, period="week", day=WEEK)
    response = client_for(world, "household_owner").get(url(world.household) + "?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="report-week-2026-10-19.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][0] == world.devices["ours"].name
    house = next(r for r in rows if r[:2] == ["total", "house"])
    assert house[3] == str(report.figures.cost)


def test_pdf_download(world: World, weeks: dict[str, Any]) -> None:
    response = client_for(world, "household_owner").get(url(world.household) + "?format=pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_household_page_links_to_the_reports(world: World) -> None:
    client = client_for(world, "household_owner")
    page = client.get(reverse("portal:household", args=[world.household.pk])).content.decode()
    assert reverse("portal:reports", args=[world.household.pk]) in page
    response = client.get(reverse("portal:reports", args=[world.household.pk]))
    assert response.status_code == 302 and "/reports/month/" in response["Location"]
    neighbour = client.get(reverse("portal:reports", args=[world.neighbour.pk]))
    assert neighbour.status_code == 404


def test_the_owner_opts_in_and_out_of_report_emails_on_the_page(world: World) -> None:
    from apps.insights.models import ReportSubscription

    owner = client_for(world, "household_owner")
    target = f"/households/{world.household.pk}/reports/subscription/"
    page = owner.get(url(world.household)).content.decode()
    assert (
        'data-testid="report-subscription"' in page
        and "checked" not in page.split('data-testid="report-subscription"')[1].split("</form>")[0]
    )
    response = owner.post(target, {"weekly": "on", "monthly": "on"}, follow=True)
    assert "Your report e-mails are saved." in response.content.decode()
    choice = ReportSubscription.objects.get(household=world.household)
    assert (choice.daily, choice.weekly, choice.monthly) == (False, True, True)
    assert choice.opted_in_at is not None
    owner.post(target, {})  # nothing ticked: opted out
    choice.refresh_from_db()
    assert (choice.daily, choice.weekly, choice.monthly) == (False, False, False)
    # Someone who may not read the household's consumption cannot subscribe to it.
    assert client_for(world, "neighbour_owner").post(target, {"daily": "on"}).status_code == 404
    assert client_for(world, "household_owner").get(target).status_code == 405
