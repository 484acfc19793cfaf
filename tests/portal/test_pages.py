"""The web shell: login, the consumer portal, the staff console, the admin, language."""

import re

from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD, World, mfa_verify_session


def signed_in(world: World, role: str) -> Client:
    client = Client()
    assert client.login(username=world.users[role].username, password=PASSWORD)
    return mfa_verify_session(client, world.users[role])  # then the TOTP code


def test_login_page_and_anonymous_redirect(client: Client, db: None) -> None:
    assert client.get(reverse("login")).status_code == 200
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_owner_lands_on_their_household(world: World) -> None:
    client = signed_in(world, "household_owner")
    response = client.get(reverse("portal:home"), follow=True)
    page = response.content.decode()
    assert "Our home" in page and world.devices["ours"].name in page
    assert "Neighbour" not in page and world.gateways["neighbour"].serial not in page


def test_another_households_page_is_404(world: World) -> None:
    client = signed_in(world, "neighbour_owner")
    url = reverse("portal:household", kwargs={"household_id": world.household.pk})
    assert client.get(url).status_code == 404


def test_members_see_the_household_but_no_invite_form(world: World) -> None:
    client = signed_in(world, "household_member")
    url = reverse("portal:household", kwargs={"household_id": world.household.pk})
    page = client.get(url).content.decode()
    assert "owner" in page  # the member list
    assert reverse("portal:member-invite", kwargs={"household_id": world.household.pk}) not in page
    invite = client.post(
        reverse("portal:member-invite", kwargs={"household_id": world.household.pk}),
        {"email": "x@example.invalid"},
    )
    assert invite.status_code == 403


def test_invitation_signup_makes_a_member_of_the_tenant(
    world: World, django_capture_on_commit_callbacks
) -> None:
    owner = signed_in(world, "household_owner")
    with django_capture_on_commit_callbacks(execute=True):
        owner.post(
            reverse("portal:member-invite", kwargs={"household_id": world.household.pk}),
            {"email": "kid@example.invalid"},
        )
    token = re.search(r"/invitations/([\w-]+)/", mail.outbox[0].body).group(1)
    newcomer = Client()
    response = newcomer.post(
        reverse("portal:invitation", kwargs={"token": token}),
        {
            "username": "kid",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        },
        follow=True,
    )
    assert "Our home" in response.content.decode()
    kid = world.household.memberships.get(user__username="kid").user
    assert kid.role == "household_member" and kid.tenant == world.home_tenant
    assert kid.email == "kid@example.invalid"
    again = Client().get(reverse("portal:invitation", kwargs={"token": token}))
    assert again.status_code == 404


def test_console_is_for_staff_only(world: World) -> None:
    assert signed_in(world, "household_owner").get(reverse("console:home")).status_code == 403
    dso = signed_in(world, "dso_staff")
    page = dso.get(reverse("console:households")).content.decode()
    assert "Our home" in page and "Neighbour" in page and "Abroad" not in page
    abroad = reverse("console:household", kwargs={"household_id": world.abroad.pk})
    assert dso.get(abroad).status_code == 404
    fleet = signed_in(world, "telco_operator").get(reverse("console:gateways")).content.decode()
    assert world.gateways["abroad"].serial in fleet


def test_dso_staff_assign_an_installer_from_the_console(world: World) -> None:
    dso = signed_in(world, "dso_staff")
    url = reverse("console:installer-assign", kwargs={"household_id": world.neighbour.pk})
    response = dso.post(url, {"installer": world.users["installer"].pk, "days": 3}, follow=True)
    assert "Installer assigned" in response.content.decode()
    assert world.neighbour.installer_assignments.count() == 1


def test_admin_is_for_platform_admins_only(world: World) -> None:
    assert signed_in(world, "platform_admin").get("/admin/").status_code == 200
    dso = world.users["dso_staff"]
    dso.is_staff = True  # even a wrongly flagged user stays out
    dso.save()
    assert signed_in(world, "dso_staff").get("/admin/").status_code == 302


def test_users_see_their_own_language(world: World) -> None:
    owner = world.users["household_owner"]
    for language, word in (("fr", "Appareils"), ("nl", "Apparaten"), ("it", "Dispositivi")):
        owner.language = language
        owner.save()
        page = signed_in(world, "household_owner").get(
            reverse("portal:household", kwargs={"household_id": world.household.pk})
        )
        assert page["Content-Language"] == language
        assert word in page.content.decode(), language


def test_the_tenant_language_is_the_default(world: World) -> None:
    owner = world.users["abroad_owner"]
    owner.language = ""
    owner.save()
    assert owner.preferred_language == "fr"


def test_swagger_ui_is_served_offline(world: World) -> None:
    client = signed_in(world, "household_owner")
    page = client.get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in page and "cdn" not in page.lower()
    assert "drf_spectacular_sidecar" in page


def test_logout(world: World) -> None:
    client = signed_in(world, "household_owner")
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("portal:home")).status_code == 302
