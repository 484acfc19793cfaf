"""TOTP multi-factor authentication (django-otp): who must verify, and step-up before control.

- Staff roles must have a confirmed TOTP device and verify it after the password, before
  anything else (MfaRequiredMiddleware).
- Anyone else with a device verifies it at login too; households may enrol any time.
- Load control (planning, starting, cancelling, rules) needs a verification within the last
  MFA_STEP_UP_MINUTES: a household user without a device is asked to enrol first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.permissions import STAFF_ROLES

VERIFIED_AT_KEY = "heb_mfa_verified_at"  # epoch seconds of the last code the session gave
HAS_DEVICE_KEY = "heb_mfa_has_device"  # cached per session: one query, not one per request


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def mfa_required_for(user: Any) -> bool:
    return getattr(user, "role", None) in STAFF_ROLES


def has_device(request: HttpRequest) -> bool:
    cached = request.session.get(HAS_DEVICE_KEY)
    if cached is None:
        cached = confirmed_device(request.user) is not None
        request.session[HAS_DEVICE_KEY] = cached
    return bool(cached)


def is_verified(request: HttpRequest) -> bool:
    verified = getattr(request.user, "is_verified", None)
    return bool(verified and verified())


def mark_verified(request: HttpRequest, device: TOTPDevice) -> None:
    """The session has just given a good code from `device` (login, enrolment or step-up)."""
    otp_login(request, device)
    request.session[VERIFIED_AT_KEY] = time.time()
    request.session[HAS_DEVICE_KEY] = True


def recently_verified(request: HttpRequest) -> bool:
    at = request.session.get(VERIFIED_AT_KEY)
    if at is None or not is_verified(request):
        return False
    return time.time() - float(at) <= settings.MFA_STEP_UP_MINUTES * 60


def safe_next(request: HttpRequest, candidate: str | None, default: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _with_next(url_name: str, next_url: str, **extra: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url, **extra})}"


def enrol_url(next_url: str) -> str:
    return _with_next("accounts:mfa-enrol", next_url)


def verify_url(next_url: str, *, step_up: bool = False) -> str:
    return _with_next("accounts:mfa-verify", next_url, **({"step_up": "1"} if step_up else {}))


View = Callable[..., HttpResponse]


def step_up_required(view: View) -> View:
    """Before a request that controls a household's devices: a code within the last minutes.

    Only unsafe methods are gated (reading the planner stays free). A POST cannot be
    replayed after the detour, so the user comes back to the page they submitted from and
    submits again.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method in ("GET", "HEAD", "OPTIONS") or recently_verified(request):
            return view(request, *args, **kwargs)
        back = safe_next(request, request.headers.get("referer"), reverse("portal:home"))
        if not has_device(request):
            messages.info(
                request,
                _("Controlling your devices needs a second factor: set up an authenticator app."),
            )
            return HttpResponseRedirect(enrol_url(back))
        messages.info(
            request,
            _("For your safety, enter a code from your authenticator app, then try again."),
        )
        return HttpResponseRedirect(verify_url(back, step_up=True))

    return wrapper


def session_verified(user: Any, session: Any) -> bool:
    """Whether a session (outside the request cycle: a WebSocket's scope) holds a verified
    device of `user`: what OTPMiddleware would find for an HTTP request."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id, for_verify=False)
    return device is not None and device.user_id == user.pk and device.confirmed
