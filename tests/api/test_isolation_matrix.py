"""Every API endpoint and every role, against our household, a neighbour's and one abroad.

The endpoints are read from the URL conf: an endpoint added without a row in
MATRIX fails `test_every_api_endpoint_has_a_matrix_row`. Each cell gives the
status for the three targets (ours, the neighbour's in the same tenant, and one
in another tenant); every response is also searched for ids the role must
never see.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.core.permissions import Role
from apps.households import services
from tests.conftest import ROLES, World
from tests.factories import UserFactory

TARGETS = ("ours", "neighbour", "abroad")
_emails = itertools.count()


@dataclass(frozen=True)
class Row:
    method: str
    kwargs: Callable[[World, str], dict[str, Any]] | None  # None: not about one household
    expected: dict[str, str]  # role → statuses for ours/neighbour/abroad ("200 404 404")
    body: Callable[[World, str], dict[str, Any]] | None = None


def household_of(w: World, target: str) -> Any:
    return {"ours": w.household, "neighbour": w.neighbour, "abroad": w.abroad}[target]


def by_household(w: World, target: str) -> dict[str, Any]:
    return {"household_id": household_of(w, target).pk}


def by_pk(kind: str) -> Callable[[World, str], dict[str, Any]]:
    def kwargs(w: World, target: str) -> dict[str, Any]:
        if kind == "tenant":
            tenant = {"ours": w.home_tenant, "neighbour": w.home_tenant, "abroad": w.other_tenant}
            return {"pk": tenant[target].pk}
        if kind == "household":
            return {"pk": household_of(w, target).pk}
        return {"pk": getattr(w, kind + "s")[target].pk}

    return kwargs


def extra_member(w: World, target: str) -> dict[str, Any]:
    """A fresh member of the target household, for the removal requests."""
    household = household_of(w, target)
    member = UserFactory(role=Role.HOUSEHOLD_MEMBER, tenant=household.tenant)
    services.member_add(household=household, user=member)
    return {"household_id": household.pk, "user_id": member.pk}


def invitation(w: World, target: str) -> dict[str, Any]:
    return {"email": f"invitee{next(_emails)}@example.invalid"}


def assignment(w: World, target: str) -> dict[str, Any]:
    username = "abroad_installer" if target == "abroad" else "installer"
    return {"installer": username, "days": 7}


ALL_OK = {role: "200 200 200" for role in ROLES} | {"anonymous": "403 403 403"}
SEE = {
    "platform_admin": "200 200 200",
    "telco_operator": "200 200 200",
    "dso_staff": "200 200 404",
    "installer": "200 404 404",
    "household_owner": "200 404 404",
    "household_member": "200 404 404",
    "third_party": "404 404 404",
    "anonymous": "403 403 403",
}
TENANT_SEE = {**SEE, **{r: "200 200 404" for r in ROLES[2:]}}
MEMBERS_VIEW = {**SEE, "telco_operator": "403 403 403", "installer": "403 404 404"}
MEMBERS_MANAGE = {
    **SEE,
    "platform_admin": "{ok} {ok} {ok}",
    "telco_operator": "403 403 403",
    "dso_staff": "403 403 404",
    "installer": "403 404 404",
    "household_owner": "{ok} 404 404",
    "household_member": "403 404 404",
}
ASSIGN = {
    **SEE,
    "platform_admin": "{ok} {ok} {ok}",
    "telco_operator": "403 403 403",
    "dso_staff": "{ok} {ok} 404",
    "installer": "403 404 404",
    "household_owner": "403 404 404",
    "household_member": "403 404 404",
}


CONSUMPTION = {
    **{role: "404 404 404" for role in ROLES},
    "dso_staff": "200 200 404",
    "household_owner": "200 404 404",
    "household_member": "200 404 404",
    "anonymous": "403 403 403",
}
DAILY_SERIES = {"resolution": "1d", "start": "2026-01-01", "end": "2026-01-08"}
# The household's own privacy: its people read, its owner decides; nobody else.
OWN_PEOPLE = {
    **{role: "404 404 404" for role in ROLES},
    "household_owner": "200 404 404",
    "household_member": "200 404 404",
    "anonymous": "403 403 403",
}
OWNER_ONLY = OWN_PEOPLE | {"household_member": "404 404 404"}
# Export and erasure: the owner, or a platform admin on the household's request.
RIGHTS = {role: "404 404 404" for role in ROLES} | {
    "platform_admin": "{ok} {ok} {ok}",
    "household_owner": "{ok} 404 404",
    "anonymous": "403 403 403",
}
ONE_CHOICE = {"recipient": "dso", "purpose": "grid_operation", "resolution": "15m", "granted": True}
# The agent API answers gateways only. The matrix forces each user onto the request, as if
# some authentication had let a person through: the IsGateway permission still says 403.
AGENT_ONLY = {role: "403 403 403" for role in ROLES} | {"anonymous": "401 401 401"}


def erasure_confirmation(w: World, target: str) -> dict[str, Any]:
    return {"confirm": household_of(w, target).name}


def command_of(w: World, target: str) -> dict[str, Any]:
    from apps.fleet.models import GatewayCommand

    household = household_of(w, target)
    command = GatewayCommand.objects.create(
        gateway=w.gateways[target], household=household, kind="switch_on"
    )
    return {"command_id": command.pk}


def ok(row: dict[str, str], status: int) -> dict[str, str]:
    return {role: cells.replace("{ok}", str(status)) for role, cells in row.items()}


MATRIX: dict[str, Row] = {
    "api-schema": Row("get", None, ALL_OK),
    "api-docs": Row("get", None, ALL_OK),
    "api-v1:me": Row("get", None, ALL_OK),
    "api-v1:tenant-list": Row("get", None, ALL_OK),
    "api-v1:tenant-detail": Row("get", by_pk("tenant"), TENANT_SEE),
    "api-v1:household-list": Row("get", None, ALL_OK),
    "api-v1:household-detail": Row("get", by_pk("household"), SEE),
    "api-v1:gateway-list": Row("get", None, ALL_OK),
    "api-v1:gateway-detail": Row("get", by_pk("gateway"), SEE),
    "api-v1:device-list": Row("get", None, ALL_OK),
    "api-v1:device-detail": Row("get", by_pk("device"), SEE),
    "api-v1:household-members": Row("get", by_household, MEMBERS_VIEW),
    "api-v1:household-members#post": Row(
        "post", by_household, ok(MEMBERS_MANAGE, 201), body=invitation
    ),
    "api-v1:household-member-detail": Row("delete", extra_member, ok(MEMBERS_MANAGE, 204)),
    "api-v1:household-installer-assignments": Row("get", by_household, ok(ASSIGN, 200)),
    "api-v1:household-installer-assignments#post": Row(
        "post", by_household, ok(ASSIGN, 201), body=assignment
    ),
    # Consumption: only through the data-access policy (monthly view: daily bars, DSO allowed).
    "api-v1:household-energy": Row("get", by_household, CONSUMPTION),
    # The series endpoint at daily resolution: the DSO's default (opt-out) level.
    "api-v1:household-consumption": Row(
        "get", by_household, CONSUMPTION, body=lambda w, t: DAILY_SERIES
    ),
    "api-v1:household-consents": Row("get", by_household, OWN_PEOPLE),
    "api-v1:household-consents#post": Row(
        "post", by_household, OWNER_ONLY, body=lambda w, t: ONE_CHOICE
    ),
    "api-v1:household-access-log": Row("get", by_household, OWN_PEOPLE),
    "api-v1:household-export": Row("get", by_household, ok(RIGHTS, 200)),
    "api-v1:household-erasure#post": Row(
        "post", by_household, ok(RIGHTS, 200), body=erasure_confirmation
    ),
    # An empty body: 400 for everyone, and nothing about any box in the answer.
    "api-agent-v1:provision": Row("post", None, {r: "400" for r in (*ROLES, "anonymous")}),
    "api-agent-v1:heartbeat": Row("post", None, AGENT_ONLY),
    "api-agent-v1:telemetry": Row("post", None, AGENT_ONLY),
    "api-agent-v1:commands": Row("get", None, AGENT_ONLY),
    "api-agent-v1:command-ack": Row("post", command_of, AGENT_ONLY),
}


def api_url_names() -> set[str]:
    """Every named URL pattern under /api/, read from the URL conf."""
    names: set[str] = set()

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, route, ns)
            elif isinstance(p, URLPattern) and route.startswith(("api/", "^api/")) and p.name:
                names.add(namespace + p.name)

    walk(get_resolver().url_patterns, "", "")
    return names


def test_every_api_endpoint_has_a_matrix_row() -> None:
    covered = {key.split("#")[0] for key in MATRIX}
    missing = api_url_names() - covered
    assert not missing, f"add these endpoints to the isolation MATRIX: {sorted(missing)}"
    assert covered <= api_url_names(), "MATRIX names an endpoint that no longer exists"


def forbidden_ids(w: World, role: str) -> list[str]:
    if role in ("platform_admin", "telco_operator"):
        return []
    ids = w.foreign_ids()
    if role == "dso_staff":  # sees its whole tenant, so the neighbour is not foreign to it
        keep = {str(w.neighbour.pk), w.neighbour.meter_point_id}
        keep |= {str(w.gateways["neighbour"].pk), w.gateways["neighbour"].serial}
        keep |= {str(w.devices["neighbour"].pk)}
        ids = [i for i in ids if i not in keep]
    if role not in ("platform_admin", "telco_operator"):
        ids.append(str(w.other_tenant.pk))
    return ids


CASES = [
    (key, role, target_index)
    for key, row in MATRIX.items()
    for role in (*ROLES, "anonymous")
    for target_index in (range(3) if row.kwargs else range(1))
]


@pytest.mark.parametrize(("key", "role", "target_index"), CASES)
def test_isolation(world: World, key: str, role: str, target_index: int) -> None:
    row = MATRIX[key]
    UserFactory(username="abroad_installer", role=Role.INSTALLER, tenant=world.other_tenant)
    target = TARGETS[target_index]
    kwargs = row.kwargs(world, target) if row.kwargs else {}
    url = reverse(key.split("#")[0], kwargs=kwargs)
    client = world.client(None if role == "anonymous" else role)
    body = row.body(world, target) if row.body else None
    response = getattr(client, row.method)(url, data=body, format="json")

    expected = int(row.expected[role].split()[target_index])
    assert response.status_code == expected, (key, role, target, response.content[:300])
    content = b"".join(response) if response.streaming else response.content
    text = content.decode(errors="replace")
    for foreign in forbidden_ids(world, role):
        assert foreign not in text, f"{key} as {role} leaks {foreign}"
