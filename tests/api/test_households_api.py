"""Writes through API v1: clear 4xx errors, nothing half-written."""

from django.urls import reverse

from apps.households.models import InstallerAssignment, Invitation
from tests.conftest import World


def members_url(world: World) -> str:
    return reverse("api-v1:household-members", kwargs={"household_id": world.household.pk})


def test_owner_invites_by_email(world: World) -> None:
    client = world.client("household_owner")
    response = client.post(members_url(world), {"email": "kid@example.invalid"}, format="json")
    assert response.status_code == 201
    assert response.json()["email"] == "kid@example.invalid"
    assert "token" not in response.json()


def test_a_bad_email_gets_400_naming_the_field_and_writes_nothing(world: World) -> None:
    response = world.client("household_owner").post(
        members_url(world), {"email": "not-an-email"}, format="json"
    )
    assert response.status_code == 400
    assert "email" in response.json()
    assert not Invitation.objects.exists()


def test_inviting_an_existing_member_is_a_400(world: World) -> None:
    email = world.users["household_member"].email
    response = world.client("household_owner").post(
        members_url(world), {"email": email}, format="json"
    )
    assert response.status_code == 400
    assert "already a member" in str(response.json())


def test_installer_assignment_errors_are_clear(world: World) -> None:
    url = reverse(
        "api-v1:household-installer-assignments", kwargs={"household_id": world.household.pk}
    )
    client = world.client("dso_staff")
    before = InstallerAssignment.objects.count()
    unknown = client.post(url, {"installer": "nobody"}, format="json")
    assert unknown.status_code == 400 and "installer" in unknown.json()
    not_installer = client.post(url, {"installer": "owner"}, format="json")
    assert not_installer.status_code == 400 and "installer" in not_installer.json()
    too_long = client.post(url, {"installer": "installer", "days": 999}, format="json")
    assert too_long.status_code == 400 and "days" in too_long.json()
    assert InstallerAssignment.objects.count() == before


def test_role_and_tenant_cannot_be_written_through_the_api(world: World) -> None:
    client = world.client("household_owner")
    url = reverse("api-v1:me")
    for method in ("put", "post"):
        response = getattr(client, method)(url, {"role": "platform_admin"}, format="json")
        assert response.status_code == 405
    # PATCH changes one's name or language; role and tenant are refused (tests/accounts).
    assert client.patch(url, {"role": "platform_admin"}, format="json").status_code == 403
    world.users["household_owner"].refresh_from_db()
    assert world.users["household_owner"].role == "household_owner"
    assert client.get(url).json()["role"] == "household_owner"


def test_read_endpoints_refuse_writes(world: World) -> None:
    client = world.client("platform_admin")
    url = reverse("api-v1:household-detail", kwargs={"pk": world.household.pk})
    assert client.patch(url, {"name": "x"}, format="json").status_code == 405
    assert client.delete(url).status_code == 405


def test_schema_documents_every_endpoint(world: World) -> None:
    schema = world.client("household_owner").get(reverse("api-schema"), {"format": "json"})
    paths = schema.json()["paths"]
    for path in ("/api/v1/households/", "/api/v1/gateways/{id}/", "/api/v1/me/"):
        assert path in paths
