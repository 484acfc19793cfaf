"""The portal page telling a household what each recipient could learn about it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.privacy.consent import consent_set
from apps.privacy.lab import runner
from tests.conftest import World

ROWS = [
    {"role": "dso", "consent": "default", "attack": a, "mcc": m, "defence": "resolution",
     "resolution_seen": "1d", "balanced_accuracy": 0.5, "auc": 0.5}
    for a, m in (("occupancy", 0.0), ("absence", 0.9), ("appliance", 0.2), ("routine", 0.0))
] + [
    {"role": "third_party", "consent": "15m_energy_services", "attack": a, "mcc": 0.7,
     "defence": "resolution", "resolution_seen": "15m", "balanced_accuracy": 0.8, "auc": 0.9}
    for a in ("occupancy", "absence", "appliance", "routine")
]  # fmt: skip


@pytest.fixture
def rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "load", lambda path=None: ROWS)


def page(world: World, who: str) -> Any:
    client = Client()
    client.force_login(world.users[who])
    return client.get(reverse("portal:privacy-exposure", args=[world.household.pk]))


def test_owner_reads_what_each_recipient_could_learn(world: World, rows: None) -> None:
    response = page(world, "household_owner")
    assert response.status_code == 200
    text = response.content.decode()
    assert "away for several days" in text  # the DSO's daily reads show absences
    sections = text.split('data-testid="exposure"')
    dso = next(s for s in sections if "(DSO)" in s)
    assert "could tell" in dso.split("could not tell")[0].lower() or "It could tell" in dso
    assert "when you are home or out during a day" in dso.split("could not tell")[1]


def test_a_consent_changes_the_words(world: World, rows: None) -> None:
    third_party = world.users["third_party"]
    consent_set(household=world.household, recipient_kind="third_party",
                purpose="energy_services", resolution="15m", granted=True,
                by=world.users["household_owner"], third_party=third_party)  # fmt: skip
    text = page(world, "household_owner").content.decode()
    name = third_party.get_full_name() or third_party.get_username()
    section = next(s for s in text.split('data-testid="exposure"') if name in s)
    assert "It could tell:" in section and "when you are home or out" in section


def test_member_sees_the_page(world: World, rows: None) -> None:
    assert page(world, "household_member").status_code == 200


@pytest.mark.parametrize(
    "who", ["neighbour_owner", "dso_staff", "installer", "third_party", "telco_operator"]
)
def test_others_are_refused(world: World, rows: None, who: str) -> None:
    assert page(world, who).status_code in (302, 403, 404)
    if who == "neighbour_owner":
        assert page(world, who).status_code == 404


def test_the_shipped_results_can_be_read() -> None:
    rows = runner.load(runner.SHIPPED_RESULTS)
    assert {r["attack"] for r in rows} == {"occupancy", "absence", "appliance", "routine"}
