from typing import Any

from django.http import HttpRequest

from apps.core.permissions import STAFF_ROLES, Action, Role, Scope, scope_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    role = getattr(user, "role", None) if signed_in else None
    return {
        "nav_console": role in STAFF_ROLES,
        "nav_admin": role == Role.PLATFORM_ADMIN,
        # DSO staff and platform admins decide on meter pairings (/console/pairings/).
        "nav_pairings": signed_in and scope_for(user, Action.APPROVE_PAIRING) is not Scope.NONE,
    }
