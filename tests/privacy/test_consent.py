"""Consent per recipient, purpose and resolution: the defaults in force, opt-in, objection,
withdrawal on the next request, third parties, and the access log of every fine read."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from apps.privacy import consent
from apps.privacy.models import (
    AccessBasis,
    AccessLogEntry,
    ConsentDecision,
    ConsentEvent,
    Purpose,
    RecipientKind,
    Resolution,
)
from tests.conftest import World, mfa_login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DAY = "2026-03-02"
WEEK = {"start": "2026-03-02", "end": "2026-03-09"}


def series(world: World, role: str, resolution: str, **extra: str) -> Any:
    url = reverse("api-v1:household-consumption", kwargs={"household_id": world.household.pk})
    query = {"resolution": resolution, "start": DAY, "end": "2026-03-03", **extra}
    if resolution in ("1d", "1mo"):
        query |= WEEK
    return world.client(role).get(url, query)


def grant(world: World, recipient: str, purpose: str, resolution: str, **kw: Any) -> Any:
    return consent.consent_set(
        household=world.household, recipient_kind=recipient, purpose=purpose,
        resolution=resolution, granted=True, by=world.users["household_owner"], **kw,
    )  # fmt: skip


# The rules in force, without any decision ----------------------------------------------


@pytest.mark.parametrize(
    ("recipient", "purpose", "resolution", "basis"),
    [
        ("dso", "billing", "1mo", AccessBasis.CONTRACT),
        ("telco", "billing", "1mo", AccessBasis.CONTRACT),
        ("dso", "grid_operation", "1d", AccessBasis.DEFAULT),
        ("dso", "research", "1d", AccessBasis.DEFAULT),
        ("telco", "energy_services", "1d", AccessBasis.DEFAULT),
        ("dso", "grid_operation", "1h", None),
        ("dso", "grid_operation", "15m", None),
        ("dso", "marketing", "1mo", None),
        ("telco", "marketing", "1d", None),
        ("dso", "grid_operation", "raw", None),
    ],
)
def test_defaults_follow_the_rules_in_force(
    world: World, recipient: str, purpose: str, resolution: str, basis: AccessBasis | None
) -> None:
    decision = consent.decide(
        household=world.household, recipient=RecipientKind(recipient),
        purpose=Purpose(purpose), resolution=Resolution(resolution),
    )  # fmt: skip
    assert decision.basis == basis
    assert decision.allowed is (basis is not None)


def test_a_third_party_gets_nothing_without_an_opt_in(world: World) -> None:
    third = world.users["third_party"]
    for purpose in consent.PURPOSES:
        finest = consent.finest_allowed(
            household=world.household,
            recipient=RecipientKind.THIRD_PARTY,
            purpose=purpose,
            third_party=third,
        )
        assert finest is None, purpose


# Through the API: what each reader gets --------------------------------------------------


def test_the_dso_reads_daily_by_default_and_nothing_finer(data: World) -> None:
    response = series(data, "dso_staff", "1d")
    assert response.status_code == 200, response.content
    assert response.json()["basis"] == "default"
    assert len(response.json()["points"]) == 7
    for finer in ("1h", "30m", "15m", "raw"):
        refused = series(data, "dso_staff", finer)
        assert refused.status_code == 403
        assert "1d" in refused.json()["detail"]
    assert not AccessLogEntry.objects.exists()  # daily reads are not logged


def test_an_opt_in_at_15_minutes_allows_it_and_the_coarser_ones_only(data: World) -> None:
    decision = grant(data, "dso", "grid_operation", "15m")
    quarters = series(data, "dso_staff", "15m")
    assert quarters.status_code == 200
    body = quarters.json()
    assert (body["basis"], body["consent"]) == ("consent", str(decision.pk))
    assert len(body["points"]) == 96
    assert body["points"][0]["import_wh"] == 300  # 1.2 kW for a quarter
    halves = series(data, "dso_staff", "30m").json()["points"]
    assert len(halves) == 48 and halves[0]["import_wh"] == 600
    assert series(data, "dso_staff", "1h").status_code == 200
    assert series(data, "dso_staff", "raw").status_code == 403
    # Consent is per purpose: research at 15 minutes is still refused.
    assert series(data, "dso_staff", "15m", purpose="research").status_code == 403


def test_withdrawal_takes_effect_on_the_next_request(data: World) -> None:
    grant(data, "dso", "grid_operation", "15m")
    assert series(data, "dso_staff", "15m").status_code == 200
    consent.consent_set(
        household=data.household, recipient_kind="dso", purpose="grid_operation",
        resolution="15m", granted=False, by=data.users["household_owner"],
    )  # fmt: skip
    assert series(data, "dso_staff", "15m").status_code == 403
    assert series(data, "dso_staff", "1d").status_code == 200  # the default stays


def test_an_objection_to_daily_data_is_honoured_but_billing_stays(data: World) -> None:
    consent.consent_set(
        household=data.household, recipient_kind="dso", purpose="grid_operation",
        resolution="1d", granted=False, by=data.users["household_owner"],
    )  # fmt: skip
    assert series(data, "dso_staff", "1d").status_code == 403
    monthly = series(data, "dso_staff", "1mo", purpose="billing")
    assert monthly.status_code == 200 and monthly.json()["basis"] == "contract"


def test_a_third_party_reads_what_it_was_given_and_loses_it_on_withdrawal(data: World) -> None:
    third = data.users["third_party"]
    assert series(data, "third_party", "1d").status_code == 404  # not even in its scope
    grant(data, "third_party", "energy_services", "1h", third_party=third)
    assert series(data, "third_party", "1h").status_code == 200
    assert series(data, "third_party", "15m").status_code == 403
    assert series(data, "third_party", "1h", purpose="marketing").status_code == 403
    consent.consent_set(
        household=data.household, recipient_kind="third_party", purpose="energy_services",
        resolution="1h", granted=False, by=data.users["household_owner"], third_party=third,
    )  # fmt: skip
    assert series(data, "third_party", "1h").status_code == 404


def test_a_third_party_must_be_one_of_the_households_partner(world: World) -> None:
    stranger = UserFactory(username="stranger", role="third_party", tenant=world.other_tenant)
    with pytest.raises(ValueError, match="third party"):
        grant(world, "third_party", "energy_services", "1h", third_party=stranger)
    with pytest.raises(ValueError, match="names the third party"):
        grant(world, "dso", "energy_services", "1h", third_party=world.users["third_party"])


def test_cells_that_are_not_a_choice_are_refused(world: World) -> None:
    with pytest.raises(ValueError, match="billing"):
        grant(world, "dso", "billing", "1mo")
    with pytest.raises(ValueError, match="own use"):
        grant(world, "dso", "own_use", "1d")


def test_every_change_is_logged_once(world: World) -> None:
    grant(world, "dso", "grid_operation", "15m")
    grant(world, "dso", "grid_operation", "15m")  # the same answer again: no new event
    consent.consent_set(
        household=world.household, recipient_kind="dso", purpose="grid_operation",
        resolution="15m", granted=False, by=world.users["household_owner"],
    )  # fmt: skip
    events = list(ConsentEvent.objects.order_by("at", "id"))
    assert [e.granted for e in events] == [True, False]
    assert {e.changed_by for e in events} == {world.users["household_owner"]}
    assert ConsentDecision.objects.count() == 1


# The access log -----------------------------------------------------------------------------


def test_a_fine_read_is_logged_with_who_why_consent_resolution_and_period(data: World) -> None:
    decision = grant(data, "dso", "grid_operation", "15m")
    series(data, "dso_staff", "15m")
    entry = AccessLogEntry.objects.get()
    zone = ZoneInfo(data.household.timezone)
    assert entry.reader == data.users["dso_staff"]
    assert (entry.role, entry.purpose, entry.basis) == ("dso_staff", "grid_operation", "consent")
    assert entry.consent_id == decision.pk
    assert entry.resolution == "15m"
    assert entry.period_start == datetime(2026, 3, 2, tzinfo=zone)
    assert entry.period_end == datetime(2026, 3, 3, tzinfo=zone)


def test_a_refused_read_is_not_logged_as_a_read(data: World) -> None:
    series(data, "dso_staff", "15m")
    assert not AccessLogEntry.objects.exists()


def test_the_household_reads_its_log_and_nobody_else_does(data: World) -> None:
    grant(data, "dso", "grid_operation", "15m")
    series(data, "dso_staff", "15m")
    url = reverse("portal:privacy-log", kwargs={"household_id": data.household.pk})
    for role in ("household_owner", "household_member"):
        page = consent_client(data, role).get(url)
        assert page.status_code == 200
        assert "dso" in page.content.decode()
        assert page.content.decode().count('data-testid="log-entry"') == 1
    for role in ("dso_staff", "third_party", "installer", "platform_admin"):
        assert consent_client(data, role).get(url).status_code == 404, role


# The consent page ---------------------------------------------------------------------------


def consent_client(world: World, role: str) -> Any:
    """Signed in to the portal as `role` (staff with their second factor)."""
    return mfa_login(world.client(role), world.users[role])


def test_the_owner_changes_one_cell_and_only_that_cell(world: World) -> None:
    client = consent_client(world, "household_owner")
    page = client.get(
        reverse("portal:privacy-consent", kwargs={"household_id": world.household.pk})
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="consent-dso"' in text and 'data-testid="consent-telco"' in text
    assert f'data-testid="consent-{world.users["third_party"].pk}"' in text
    # The form as the browser sends it: the boxes in force, plus one more ticked.
    checked = {
        f"{p}:{r}": "on"
        for p in ("billing", "grid_operation", "energy_services", "research")
        for r in ("1mo", "1d")
        if not (p == "billing" and r == "1mo")
    }
    checked["grid_operation:15m"] = "on"
    url = reverse(
        "portal:privacy-consent-change",
        kwargs={"household_id": world.household.pk, "recipient": "dso"},
    )
    assert client.post(url, checked).status_code == 302
    decision = ConsentDecision.objects.get()
    assert (decision.recipient_kind, decision.purpose, decision.resolution, decision.granted) == (
        "dso", "grid_operation", "15m", True
    )  # fmt: skip
    # Unticking a default cell is an objection, recorded as such.
    del checked["research:1d"]
    client.post(url, checked)
    objection = ConsentDecision.objects.get(purpose="research", resolution="1d")
    assert objection.granted is False
    assert ConsentEvent.objects.count() == 2


def test_members_see_the_choices_but_only_the_owner_changes_them(world: World) -> None:
    member = consent_client(world, "household_member")
    kwargs = {"household_id": world.household.pk}
    page = member.get(reverse("portal:privacy-consent", kwargs=kwargs))
    assert page.status_code == 200 and "Only the household" in page.content.decode()
    url = reverse("portal:privacy-consent-change", kwargs={**kwargs, "recipient": "dso"})
    assert member.post(url, {"grid_operation:15m": "on"}).status_code == 404
    assert not ConsentDecision.objects.exists()
    for role in ("dso_staff", "platform_admin", "third_party"):
        assert (
            consent_client(world, role)
            .get(reverse("portal:privacy-consent", kwargs=kwargs))
            .status_code
            == 404
        ), role


# The household's app: the same choices through the API ------------------------------------


def test_the_api_records_one_choice_and_refuses_what_is_not_a_choice(world: World) -> None:
    owner = world.client("household_owner")
    url = reverse("api-v1:household-consents", kwargs={"household_id": world.household.pk})
    third = world.users["third_party"]
    ok = owner.post(
        url,
        {"recipient": "third_party", "third_party": third.pk, "purpose": "energy_services",
         "resolution": "30m", "granted": True},
        format="json",
    )  # fmt: skip
    assert ok.status_code == 200, ok.content
    assert ConsentDecision.objects.get().pk.hex == ok.json()["consent"].replace("-", "")
    listed = owner.get(url).json()["recipients"]
    party = next(r for r in listed if r["third_party"] == third.pk)
    cells = {(c["purpose"], c["resolution"]): c for c in party["choices"]}
    assert cells[("energy_services", "30m")]["answered"] is True
    assert cells[("energy_services", "1h")]["allowed"] is True  # covered by the finer one
    assert cells[("energy_services", "15m")]["allowed"] is False
    bad_bodies = [
        {"recipient": "dso", "purpose": "billing", "resolution": "1mo", "granted": False},
        {"recipient": "dso", "purpose": "own_use", "resolution": "1d", "granted": True},
        {"recipient": "dso", "purpose": "grid_operation", "resolution": "5m", "granted": True},
        {"recipient": "third_party", "third_party": 999999, "purpose": "research",
         "resolution": "1d", "granted": True},
        {"recipient": "third_party", "purpose": "research", "resolution": "1d", "granted": True},
    ]  # fmt: skip
    for body in bad_bodies:
        refused = owner.post(url, body, format="json")
        assert refused.status_code == 400, (body, refused.content)
    assert ConsentDecision.objects.count() == 1
    assert ConsentEvent.objects.count() == 1


def test_the_api_lists_the_access_log_to_the_household(data: World) -> None:
    grant(data, "dso", "grid_operation", "15m")
    series(data, "dso_staff", "15m")
    url = reverse("api-v1:household-access-log", kwargs={"household_id": data.household.pk})
    rows = data.client("household_member").get(url).json()["results"]
    assert [(r["role"], r["resolution"], r["purpose"], r["basis"]) for r in rows] == [
        ("dso_staff", "15m", "grid_operation", "consent")
    ]
