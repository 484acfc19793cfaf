"""The console's tariff page and price import, per role; restrict() on tariffs."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from apps.core.permissions import Action
from apps.tariffs.defaults import ensure_default_tariffs
from apps.tariffs.models import PricePoint, Tariff, TempoDay
from tests.conftest import World, mfa_login

LIST = reverse("console:tariffs")
IMPORT = reverse("console:tariff-price-import")
CSV = b"start,price_per_mwh\n2026-01-15T09:00Z,100\n2026-01-15T09:15Z,110\n"


@pytest.fixture
def tariffs(world: World) -> World:
    ensure_default_tariffs(world.home_tenant)  # BE
    ensure_default_tariffs(world.other_tenant)  # FR
    return world


def login(world: World, role: str | None) -> Client:
    client = Client()
    if role is not None:
        mfa_login(client, world.users[role])
    return client


def upload(series: str, body: bytes = CSV, fmt: str = "csv") -> dict[str, Any]:
    return {"series": series, "format": fmt, "file": SimpleUploadedFile("prices.csv", body)}


@pytest.mark.parametrize(
    ("role", "status", "sees_abroad", "can_import"),
    [
        ("platform_admin", 200, True, True),
        ("telco_operator", 200, True, False),
        ("dso_staff", 200, False, True),
        ("installer", 200, False, False),
        ("household_owner", 403, False, False),
        ("household_member", 403, False, False),
        ("third_party", 403, False, False),
    ],
)
def test_tariff_page_per_role(
    tariffs: World, role: str, status: int, sees_abroad: bool, can_import: bool
) -> None:
    response = login(tariffs, role).get(LIST)
    assert response.status_code == status
    if status != 200:
        return
    content = response.content.decode()
    assert 'data-testid="tariff-be-bihoraire"' in content
    assert ('data-testid="tariff-fr-tempo"' in content) is sees_abroad
    assert ("Import prices" in content) is can_import


def test_anonymous_is_sent_to_login(tariffs: World) -> None:
    response = Client().get(LIST)
    assert response.status_code == 302 and "login" in response["Location"]


def test_home_links_to_tariffs(tariffs: World) -> None:
    response = login(tariffs, "dso_staff").get(reverse("console:home"))
    assert LIST in response.content.decode()


def test_dso_staff_imports_for_their_tenant(tariffs: World) -> None:
    response = login(tariffs, "dso_staff").post(IMPORT, upload("be-da"), follow=True)
    assert response.status_code == 200
    assert "Imported 2 price points into be-da" in response.content.decode()
    assert PricePoint.objects.count() == 2


def test_platform_admin_imports_a_tempo_calendar_anywhere(tariffs: World) -> None:
    body = b"date,day_type\n2026-01-15,red\n"
    response = login(tariffs, "platform_admin").post(IMPORT, upload("fr-tempo", body, "tempo"))
    assert response.status_code == 302
    assert TempoDay.objects.get().colour == "RED"


@pytest.mark.parametrize(
    ("role", "series", "status"),
    [
        ("dso_staff", "fr-tempo", 404),  # another tenant's series: not there for them
        ("telco_operator", "be-da", 403),  # sees tariffs, imports nothing
        ("installer", "be-da", 403),
        ("installer", "fr-tempo", 403),
        ("household_owner", "be-da", 403),
    ],
)
def test_import_refused(tariffs: World, role: str, series: str, status: int) -> None:
    response = login(tariffs, role).post(IMPORT, upload(series))
    assert response.status_code == status
    assert PricePoint.objects.count() == 0


def test_bad_file_shows_the_line_and_imports_nothing(tariffs: World) -> None:
    body = CSV + b"2026-01-15T09:30Z,cheap\n"
    response = login(tariffs, "dso_staff").post(IMPORT, upload("be-da", body))
    assert response.status_code == 400
    content = response.content.decode()
    assert "line 4: price" in content and "Nothing was imported" in content
    assert PricePoint.objects.count() == 0


def test_import_is_post_only(tariffs: World) -> None:
    assert login(tariffs, "dso_staff").get(IMPORT).status_code == 405


@pytest.mark.parametrize(
    ("role", "action", "codes"),
    [
        ("platform_admin", Action.CHANGE, {"be-bihoraire", "fr-tempo"}),
        ("telco_operator", Action.VIEW, {"be-bihoraire", "fr-tempo"}),
        ("telco_operator", Action.CHANGE, set()),
        ("dso_staff", Action.CHANGE, {"be-bihoraire"}),
        ("household_owner", Action.VIEW, {"be-bihoraire"}),  # their own tenant's tariffs
        ("household_owner", Action.CHANGE, set()),  # a household grant is not a tariff grant
        ("third_party", Action.VIEW, {"be-bihoraire"}),
    ],
)
def test_restrict(tariffs: World, role: str, action: Action, codes: set[str]) -> None:
    visible = set(
        Tariff.objects.restrict(tariffs.users[role], action)
        .filter(code__in=["be-bihoraire", "fr-tempo"])
        .values_list("code", flat=True)
    )
    assert visible == codes


def test_restrict_fails_closed(tariffs: World) -> None:
    assert not Tariff.objects.restrict(AnonymousUser(), Action.VIEW).exists()
