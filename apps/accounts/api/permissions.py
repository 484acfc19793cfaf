"""What a token-authenticated request may reach: the scope its view declares."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from apps.accounts.mfa import recently_verified
from apps.accounts.models import ApiToken


class TokenHasScope(BasePermission):
    """A token reaches a view only if the view declares `api_scope` ("households", …)
    and the token holds "<scope>:read" (reads) or "<scope>:write" (writes; none is issued
    yet, so tokens only read). Session users are not concerned. Fails closed."""

    message = "This API token's scopes do not cover this endpoint."

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        scope = getattr(view, "api_scope", None)
        if scope is None:
            return False
        access = "read" if request.method in SAFE_METHODS else "write"
        needed = f"{scope}:{access}"
        self.message = f"This API token lacks the scope {needed}."
        return needed in token.scopes


class StepUpVerified(BasePermission):
    """For API endpoints that control devices: a TOTP code within MFA_STEP_UP_MINUTES
    (session users; tokens hold no control scope)."""

    message = "Controlling devices needs a recent second-factor verification (/mfa/verify/)."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return not isinstance(request.auth, ApiToken) and recently_verified(request._request)
