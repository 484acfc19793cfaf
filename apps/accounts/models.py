from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.permissions import STAFF_ROLES, TELCO_ROLES, Role


class HebUserManager(UserManager["User"]):
    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("role", Role.PLATFORM_ADMIN)
        return super().create_superuser(username, email, password, **extra)


class User(AbstractUser):
    """A person (or a third-party service account) using the platform.

    `role` and `tenant` decide the scope of everything the user can reach; only a
    platform admin may change them (the admin is the only place they are editable).
    """

    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    installer_company = models.ForeignKey(
        "tenants.InstallerCompany",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="installers",
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True,
        help_text=_("Empty: the tenant's language."),
    )  # fmt: skip

    objects = HebUserManager()  # type: ignore[misc]

    @property
    def preferred_language(self) -> str:
        if self.language:
            return self.language
        return self.tenant.language if self.tenant else settings.LANGUAGE_CODE

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_telco(self) -> bool:
        return self.role in TELCO_ROLES


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self) -> ApiTokenQuerySet:
        from django.utils import timezone

        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """A third party's key to the API: scoped, expiring, revocable, and only ever stored hashed.

    The token acts as its owner: the owner's role, tenant, grants and the households'
    consent still decide what it reads; the scopes only narrow that further.
    """

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    # The first characters of the raw token, shown in lists so that a token can be recognised.
    prefix = models.CharField(max_length=16, db_index=True)
    digest = models.CharField(max_length=64, unique=True)  # SHA-256 of the raw token
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEvent(models.Model):
    """What a staff member did (every state-changing request) and every sign-in event."""

    class Kind(models.TextChoices):
        REQUEST = "request", _("Request")
        LOGIN = "login", _("Logged in")
        LOGOUT = "logout", _("Logged out")
        LOGIN_FAILED = "login_failed", _("Login failed")
        LOCKED_OUT = "locked_out", _("Locked out")
        MFA_ENROLLED = "mfa_enrolled", _("MFA enrolled")
        MFA_VERIFIED = "mfa_verified", _("MFA verified")
        MFA_FAILED = "mfa_failed", _("MFA code refused")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)  # kept if the user is deleted
    role = models.CharField(max_length=32, blank=True)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    action = models.CharField(max_length=200, blank=True)  # the view name, e.g. console:claim
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.kind} {self.action}"
