"""TOTP enrolment and verification pages, and the audit log in the console."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import mfa
from apps.accounts.audit import audit_record
from apps.accounts.forms import TotpCodeForm
from apps.accounts.models import AuditEvent
from apps.core.permissions import Role

AUDIT_PAGE = 50


def _next(request: HttpRequest) -> str:
    return mfa.safe_next(
        request, request.POST.get("next") or request.GET.get("next"), reverse("portal:home")
    )


def _pending_device(user: Any) -> TOTPDevice:
    """The device being enrolled: the same secret until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="default", confirmed=False)


def _secret(device: TOTPDevice) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode()


@login_required
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    """Scan the QR code (or type the secret), then confirm with a first code."""
    if mfa.confirmed_device(request.user) is not None:
        if mfa.is_verified(request):
            messages.info(request, _("Your authenticator app is already set up."))
            return redirect(_next(request))
        return redirect(mfa.verify_url(_next(request)))
    device = _pending_device(request.user)
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            mfa.mark_verified(request, device)
            audit_record(kind=AuditEvent.Kind.MFA_ENROLLED, request=request)
            messages.success(request, _("Your authenticator app is set up."))
            return redirect(_next(request))
        audit_record(kind=AuditEvent.Kind.MFA_FAILED, request=request, action="enrol")
        form.add_error("code", _("That code is not right: check the time on your phone."))
    qr = segno.make(device.config_url, error="m").svg_inline(scale=4, title=_("QR code"))
    context = {"form": form, "qr": qr, "secret": _secret(device), "next": _next(request)}
    return render(request, "accounts/mfa_enrol.html", context, status=400 if form.errors else 200)


@login_required
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """The code after the password, and again before controlling devices (step-up)."""
    device = mfa.confirmed_device(request.user)
    if device is None:
        request.session[mfa.HAS_DEVICE_KEY] = False
        return redirect(mfa.enrol_url(_next(request)))
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            mfa.mark_verified(request, device)
            audit_record(kind=AuditEvent.Kind.MFA_VERIFIED, request=request)
            return redirect(_next(request))
        audit_record(kind=AuditEvent.Kind.MFA_FAILED, request=request, action="verify")
        allowed, _why = device.verify_is_allowed()
        form.add_error(
            "code",
            _("That code is not right.")
            if allowed
            else _("Too many wrong codes: wait a little before trying again."),
        )
    context = {
        "form": form, "next": _next(request), "step_up": bool(request.GET.get("step_up")),
    }  # fmt: skip
    return render(request, "accounts/mfa_verify.html", context, status=400 if form.errors else 200)


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """Platform admins read the audit log (the console's page; the admin has it too)."""
    if getattr(request.user, "role", None) != Role.PLATFORM_ADMIN:
        raise PermissionDenied(_("Only platform administrators read the audit log."))
    events = AuditEvent.objects.select_related("tenant")
    if request.GET.get("user"):
        events = events.filter(username=request.GET["user"])
    page = Paginator(events, AUDIT_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounts/audit.html", {"page": page})


def locked_out(request: HttpRequest, response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes' answer to a locked-out login: a page that says why and for how long."""
    from django.conf import settings

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT}
    return render(request, "registration/locked_out.html", context, status=429)
