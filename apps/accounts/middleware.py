from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

from apps.core.permissions import STAFF_ROLES


class UserLanguageMiddleware:
    """A signed-in user sees their own language (theirs, else their tenant's)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = user.preferred_language
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language() or "en")
        return response


class MfaRequiredMiddleware:
    """Staff (and anyone with a TOTP device) give a code after the password, before anything
    else: a page request goes to the verification (or, for staff without a device, the
    enrolment) page; an API request gets a 403 saying so."""

    # Views an unverified user must still reach: to log in or out, enrol, verify, pick a language.
    OPEN_VIEWS = frozenset(
        {"login", "logout", "set_language", "accounts:mfa-enrol", "accounts:mfa-verify"}
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        from apps.accounts import mfa

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or mfa.is_verified(request):
            return None
        match = request.resolver_match
        if (match and match.view_name in self.OPEN_VIEWS) or request.path.startswith(
            tuple(settings.MFA_EXEMPT_PATH_PREFIXES)
        ):
            return None
        enrolled = mfa.has_device(request)
        if not enrolled and not mfa.mfa_required_for(user):
            return None  # a household without a device: asked only before load control
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": _("Multi-factor authentication required: verify at /mfa/verify/.")},
                status=403,
            )
        here = request.get_full_path()
        return HttpResponseRedirect(mfa.verify_url(here) if enrolled else mfa.enrol_url(here))


class StaffAuditMiddleware:
    """Records every state-changing request of a staff-role user, whatever its outcome.

    After the response, outside the view's transaction: a refused or failed request is
    recorded too, and the record stays when the view's work is rolled back.
    """

    UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)  # DRF sets the API's user here too
        if (
            request.method in self.UNSAFE
            and user is not None
            and user.is_authenticated
            and getattr(user, "role", None) in STAFF_ROLES
        ):
            from apps.accounts.audit import audit_request

            audit_request(request=request, status=response.status_code)
        return response
