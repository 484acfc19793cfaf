"""Scoped, expiring, revocable API tokens for third parties, through the real API."""

from __future__ import annotations

import uuid
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import ApiToken, AuditEvent
from apps.accounts.tokens import token_create, token_revoke
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_earlier_failures() -> None:
    """Wrong-token counts live in the cache, which outlives a test's database."""
    cache.delete_many([f"api-token-failures:{a}" for a in ("127.0.0.1", "192.0.2.1")])


def bearer(raw: str, address: str = "127.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def make(world: World, role: str = "household_owner", **kwargs: Any) -> tuple[ApiToken, str]:
    fields = {"name": "energy app", "scopes": ["households:read"], "days": 30, **kwargs}
    return token_create(owner=world.users[role], **fields)


def test_only_the_hash_is_stored(world: World) -> None:
    token, raw = make(world)
    assert raw.startswith("heb_") and len(raw) > 40
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in str(stored) and stored["digest"] != raw
    assert raw.startswith(token.prefix)


def test_a_token_reads_what_its_owner_may_see_within_its_scope(world: World) -> None:
    token, raw = make(world)
    response = bearer(raw).get("/api/v1/households/")
    assert response.status_code == 200
    assert [h["id"] for h in response.json()["results"]] == [str(world.household.pk)]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_third_partys_token_sees_only_what_the_policy_grants(world: World) -> None:
    _token, raw = make(world, "third_party")
    response = bearer(raw).get("/api/v1/households/")
    assert response.status_code == 200 and response.json()["results"] == []
    other = bearer(raw).get(f"/api/v1/households/{world.household.pk}/")
    assert other.status_code == 404


def test_a_scope_the_token_lacks_is_refused(world: World) -> None:
    _token, raw = make(world)
    response = bearer(raw).get(f"/api/v1/households/{world.household.pk}/energy/")
    assert response.status_code == 403 and "consumption:read" in response.json()["detail"]
    assert bearer(raw).get("/api/v1/devices/").status_code == 403


def test_a_view_that_declares_no_scope_is_closed_to_tokens(world: World) -> None:
    _token, raw = make(world, scopes=list(["households:read", "devices:read"]))
    assert bearer(raw).get("/api/v1/gateways/").status_code == 403
    assert bearer(raw).get("/api/v1/devices/").status_code == 200


def test_tokens_only_read(world: World) -> None:
    _token, raw = make(world)
    response = bearer(raw).post(
        f"/api/v1/households/{world.household.pk}/members/", {"email": "x@example.invalid"}
    )
    assert response.status_code == 403 and "households:write" in response.json()["detail"]


def test_an_expired_token_gets_a_401_saying_so(world: World) -> None:
    _token, raw = make(world, days=1)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        response = bearer(raw).get("/api/v1/households/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_or_unknown_token_gets_a_401_saying_so(world: World) -> None:
    token, raw = make(world)
    token_revoke(token=token, revoked_by=world.users["platform_admin"])
    response = bearer(raw).get("/api/v1/households/")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    unknown = bearer("heb_" + "x" * 43).get("/api/v1/households/")
    assert unknown.status_code == 401 and "Unknown" in unknown.json()["detail"]
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.TOKEN_REVOKED).exists()


@override_settings(API_TOKEN_FAILURE_LIMIT=3)
def test_guessing_tokens_is_throttled(world: World) -> None:
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"  # counts are per address
    cache.delete(f"api-token-failures:{address}")
    for n in range(3):
        assert bearer(f"heb_guess{n}", address).get("/api/v1/households/").status_code == 401
    _token, raw = make(world)
    assert bearer(raw, address).get("/api/v1/households/").status_code == 429
    assert bearer(raw, "192.0.2.1").get("/api/v1/households/").status_code == 200  # elsewhere


def test_staff_cannot_have_tokens_and_scopes_are_checked(world: World) -> None:
    with pytest.raises(ValidationError):
        make(world, "dso_staff")
    with pytest.raises(ValidationError):
        make(world, scopes=["households:write"])
    with pytest.raises(ValidationError):
        make(world, days=0)


def test_the_command_shows_the_raw_token_once_and_revokes_it(world: World) -> None:
    out = StringIO()
    call_command(
        "api_token", "create", "--user", "thirdparty", "--name", "EnergyCo",
        "--scope", "households:read", "--scope", "consumption:read", "--days", "10", stdout=out,
    )  # fmt: skip
    raw = out.getvalue().strip().splitlines()[-1]
    assert bearer(raw).get("/api/v1/households/").status_code == 200
    token = ApiToken.objects.get()
    assert token.scopes == ["consumption:read", "households:read"]
    listing = StringIO()
    call_command("api_token", "list", stdout=listing)
    assert token.prefix in listing.getvalue() and raw not in listing.getvalue()
    call_command("api_token", "revoke", token.prefix, stdout=StringIO())
    assert bearer(raw).get("/api/v1/households/").status_code == 401


def test_sessions_are_unaffected_by_api_scopes(world: World) -> None:
    client = APIClient()
    client.force_login(world.users["household_owner"])
    assert client.get("/api/v1/gateways/").status_code == 200
