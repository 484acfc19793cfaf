"""Role, tenant and installer company are written by platform admins only: refused elsewhere."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.core.permissions import Role
from apps.households import services
from tests.conftest import World, mfa_login

pytestmark = pytest.mark.django_db


def me(world: World, role: str) -> APIClient:
    return mfa_login(APIClient(), world.users[role])


@pytest.mark.parametrize("role", ["household_owner", "dso_staff", "installer", "third_party"])
@pytest.mark.parametrize(
    "payload",
    [{"role": "platform_admin"}, {"tenant": "x"}, {"installer_company": 1},
     {"first_name": "Eve", "role": "telco_operator"}, {"is_superuser": True}],
)  # fmt: skip
def test_a_non_admin_sending_role_or_tenant_gets_403_and_nothing_is_written(
    world: World, role: str, payload: dict[str, object]
) -> None:
    user = world.users[role]
    client = me(world, role)
    before = User.objects.filter(pk=user.pk).values().get()
    response = client.patch("/api/v1/me/", payload, format="json")
    assert response.status_code == 403
    assert "Only a platform administrator may change" in response.json()["detail"]
    assert User.objects.filter(pk=user.pk).values().get() == before


def test_a_user_changes_their_name_and_language(world: World) -> None:
    response = me(world, "household_owner").patch(
        "/api/v1/me/", {"first_name": "Ann", "language": "fr"}, format="json"
    )
    assert response.status_code == 200 and response.json()["language"] == "fr"
    assert User.objects.get(username="owner").first_name == "Ann"


def test_a_platform_admin_is_sent_to_the_administration(world: World) -> None:
    response = me(world, "platform_admin").patch(
        "/api/v1/me/", {"role": "dso_staff"}, format="json"
    )
    assert response.status_code == 400 and "administration" in str(response.json())
    assert User.objects.get(username="admin").role == Role.PLATFORM_ADMIN


def test_the_invitation_signup_refuses_role_and_tenant(world: World) -> None:
    _invitation, token = services.member_invite(
        household=world.household, invited_by=world.users["household_owner"],
        email="kid@example.invalid",
    )  # fmt: skip
    response = Client().post(
        f"/invitations/{token}/",
        {"username": "kid", "password1": "a-long-pass-phrase-9",
         "password2": "a-long-pass-phrase-9", "role": "platform_admin"},
    )  # fmt: skip
    assert response.status_code in (200, 400)
    assert "Only a platform administrator may set: role" in response.content.decode()
    assert not User.objects.filter(username="kid").exists()


@pytest.mark.parametrize("role", ["dso_staff", "telco_operator", "household_owner"])
def test_only_platform_admins_reach_the_user_admin(world: World, role: str) -> None:
    client = mfa_login(Client(), world.users[role])
    url = f"/admin/accounts/user/{world.users['household_owner'].pk}/change/"
    response = client.post(url, {"role": "platform_admin"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert User.objects.get(username="owner").role == Role.HOUSEHOLD_OWNER
