"""The staff audit log: who did what, from where, and every sign-in event."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from apps.accounts.models import AuditEvent

# The URL keyword that names the object a console or admin request is about.
_OBJECT_KWARGS = (
    ("household_id", "household"),
    ("gateway_id", "gateway"),
    ("pairing_id", "pairing"),
    ("alarm_id", "alarm"),
    ("credential_id", "credential"),
    ("device_id", "device"),
    ("plan_id", "plan"),
    ("user_id", "user"),
    ("object_id", "object"),
)


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    kind: str,
    request: HttpRequest | None = None,
    user: Any = None,
    username: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    status: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    if user is None and request is not None:
        user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    return AuditEvent.objects.create(
        kind=kind,
        actor=user if signed_in else None,
        username=user.get_username() if signed_in else username[:150],
        role=getattr(user, "role", "") if signed_in else "",
        tenant_id=getattr(user, "tenant_id", None) if signed_in else None,
        action=action[:200],
        object_type=object_type,
        object_id=object_id[:64],
        ip=client_ip(request),
        status=status,
        details=details or {},
    )


def request_object(kwargs: dict[str, Any]) -> tuple[str, str]:
    """The (type, id) a request is about, from its URL keywords (the most specific wins)."""
    found = ("", "")
    for key, object_type in _OBJECT_KWARGS:
        if key in kwargs:
            found = (object_type, str(kwargs[key]))
    return found


def audit_request(*, request: HttpRequest, status: int) -> None:
    match = request.resolver_match
    kwargs = match.kwargs if match else {}
    object_type, object_id = request_object(kwargs)
    audit_record(
        kind=AuditEvent.Kind.REQUEST,
        request=request,
        action=match.view_name if match else request.path,
        object_type=object_type,
        object_id=object_id,
        status=status,
        details={"method": request.method, "path": request.path},
    )


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(kind=AuditEvent.Kind.LOGIN, request=request, user=user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(kind=AuditEvent.Kind.LOGOUT, request=request, user=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    audit_record(
        kind=AuditEvent.Kind.LOGIN_FAILED,
        request=request,
        user=None,
        username=str(credentials.get("username", "")),
    )


def _locked_out(sender: Any, request: HttpRequest | None, username: str, **kwargs: Any) -> None:
    audit_record(
        kind=AuditEvent.Kind.LOCKED_OUT, request=request, user=None, username=username or ""
    )


def connect_lockout_signal() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(_locked_out, dispatch_uid="audit_locked_out")
