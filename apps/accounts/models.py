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
