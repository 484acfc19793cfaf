from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from apps.core.permissions import SCOPES, Action, Role, Scope, scope_for


def user(role: str | None, active: bool = True) -> SimpleNamespace:
    return SimpleNamespace(is_authenticated=True, is_active=active, role=role)


@pytest.mark.parametrize("action", list(Action))
def test_fails_closed_for_anonymous_inactive_and_roleless_users(action: Action) -> None:
    assert scope_for(AnonymousUser(), action) is Scope.NONE
    assert scope_for(user(Role.PLATFORM_ADMIN, active=False), action) is Scope.NONE
    assert scope_for(user(None), action) is Scope.NONE
    assert scope_for(user("superuser"), action) is Scope.NONE


def test_every_action_has_a_row_and_no_consumption_for_installers_or_telco() -> None:
    assert set(SCOPES) == set(Action)
    consumption = SCOPES[Action.VIEW_CONSUMPTION]
    for role in (Role.INSTALLER, Role.PLATFORM_ADMIN, Role.TELCO_OPERATOR):
        assert consumption.get(role, Scope.NONE) is Scope.NONE


def test_third_parties_get_nothing_but_grants() -> None:
    for action in Action:
        assert SCOPES[action].get(Role.THIRD_PARTY, Scope.NONE) in (Scope.NONE, Scope.GRANT)
