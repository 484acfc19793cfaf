"""The portal's "Your data" page: the owner's download and erasure, 404 for everyone else."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.households.models import Household
from apps.privacy.export import JSON_NAME
from apps.privacy.models import DataRightsKind, DataRightsRecord
from tests.conftest import ROLES, World, mfa_login
from tests.privacy.test_gdpr import body, populate

pytestmark = pytest.mark.django_db


def signed_in(world: World, role: str) -> Client:
    client = Client()
    user = world.users[role]
    if user.is_staff_role:
        return mfa_login(client, user)
    client.force_login(user)
    return client


def url(name: str, household: Household) -> str:
    return reverse(f"portal:{name}", kwargs={"household_id": household.pk})


def test_the_owner_sees_what_is_exported_deleted_and_kept(world: World) -> None:
    response = signed_in(world, "household_owner").get(url("privacy-data", world.household))
    assert response.status_code == 200
    page = response.content.decode()
    for testid in ("export-button", "erasure-form", "erase-button"):
        assert f'data-testid="{testid}"' in page
    assert "cannot be undone" in page
    assert "energy box" in page  # what is kept, and why
    assert 'name="confirm"' in page


def test_the_owner_downloads_the_zip(world: World) -> None:
    populate(world)
    client = signed_in(world, "household_owner")
    response = client.post(url("privacy-data-export", world.household))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    content = body(response)
    document = json.loads(zipfile.ZipFile(io.BytesIO(content)).read(JSON_NAME))
    assert document["household_id"] == str(world.household.pk)
    assert DataRightsRecord.objects.filter(kind=DataRightsKind.EXPORT).count() == 1
    # The page lists the request afterwards.
    page = client.get(url("privacy-data", world.household)).content.decode()
    assert 'data-testid="rights-records"' in page


def test_a_get_never_exports_or_erases(world: World) -> None:
    client = signed_in(world, "household_owner")
    assert client.get(url("privacy-data-export", world.household)).status_code == 405
    assert client.get(url("privacy-data-erase", world.household)).status_code == 405
    assert not DataRightsRecord.objects.exists()


@pytest.mark.parametrize("typed", ["", "Neighbour", "our hom"])
def test_a_wrong_confirmation_erases_nothing_and_says_why(world: World, typed: str) -> None:
    populate(world)
    client = signed_in(world, "household_owner")
    response = client.post(url("privacy-data-erase", world.household), {"confirm": typed})
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert Household.objects.filter(pk=world.household.pk).exists()
    assert not DataRightsRecord.objects.exists()


def test_the_owner_erases_and_is_signed_out(world: World) -> None:
    populate(world)
    client = signed_in(world, "household_owner")
    response = client.post(url("privacy-data-erase", world.household), {"confirm": "Our home"})
    assert response.status_code == 200
    assert 'data-testid="erasure-done"' in response.content.decode()
    record = DataRightsRecord.objects.get(kind=DataRightsKind.ERASURE)
    assert str(record.pk) in response.content.decode()
    assert not Household.objects.filter(pk=world.household.pk).exists()
    # The account went with the household: the session no longer opens the portal.
    assert client.get(reverse("portal:home")).status_code == 302


def test_an_owner_of_another_household_stays_signed_in(world: World) -> None:
    from apps.households import services

    owner = world.users["household_owner"]
    services.household_add_owner(household=world.neighbour, user=owner)
    client = signed_in(world, "household_owner")
    client.post(url("privacy-data-erase", world.household), {"confirm": "Our home"})
    owner.refresh_from_db()
    assert owner.is_active
    response = client.get(url("privacy-data", world.neighbour))
    assert response.status_code == 200


# Who reaches the page: the owner, a platform admin; nobody else, on any household.
PAGE_STATUS = {role: (404, 404, 404) for role in ROLES} | {
    "household_owner": (200, 404, 404),
    "platform_admin": (200, 200, 200),
}


@pytest.mark.parametrize("role", ROLES)
def test_only_the_owner_or_a_platform_admin_reaches_the_page(world: World, role: str) -> None:
    client = signed_in(world, role)
    targets = (world.household, world.neighbour, world.abroad)
    got = tuple(client.get(url("privacy-data", h)).status_code for h in targets)
    assert got == PAGE_STATUS[role]
    if PAGE_STATUS[role] == (404, 404, 404):
        for household in targets:
            posted: Any = client.post(url("privacy-data-export", household))
            assert posted.status_code == 404
            erase = client.post(url("privacy-data-erase", household), {"confirm": household.name})
            assert erase.status_code == 404
        assert Household.objects.count() == 3
        assert not DataRightsRecord.objects.exists()


def test_anonymous_is_sent_to_the_login(world: World) -> None:
    response = Client().get(url("privacy-data", world.household))
    assert response.status_code == 302
    assert "login" in response["Location"]
