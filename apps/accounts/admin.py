from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ApiToken, AuditEvent, User
from apps.accounts.tokens import token_revoke
from apps.core.permissions import Role


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "role", "tenant", "is_active"]
    list_filter = ["role", "tenant", "is_active"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,  # type: ignore[misc]
        ("HEB", {"fields": ("role", "tenant", "installer_company", "language")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("HEB", {"fields": ("role", "tenant", "installer_company", "language")}),
    )


class PlatformAdminReadMixin:
    """Platform admins read these whether or not they hold Django's model permissions."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return getattr(request.user, "role", None) == Role.PLATFORM_ADMIN

    def has_module_permission(self, request: HttpRequest) -> bool:
        return getattr(request.user, "role", None) == Role.PLATFORM_ADMIN


@admin.register(AuditEvent)
class AuditEventAdmin(PlatformAdminReadMixin, admin.ModelAdmin):
    """Read-only: an audit log nobody can edit or delete from the admin."""

    list_display = ["at", "username", "role", "kind", "action", "object_type", "object_id",
                    "tenant", "ip", "status"]  # fmt: skip
    list_filter = ["kind", "role", "tenant"]
    search_fields = ["username", "action", "object_id", "ip"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(PlatformAdminReadMixin, admin.ModelAdmin):
    """Tokens are created with `manage.py api_token create` (the raw token is shown once);
    here they are listed and revoked."""

    list_display = ["name", "prefix", "owner", "scopes", "expires_at", "last_used_at",
                    "revoked_at"]  # fmt: skip
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "owner__username"]
    readonly_fields = ["owner", "name", "prefix", "scopes", "created_at", "expires_at",
                       "last_used_at", "revoked_at"]  # fmt: skip
    exclude = ["digest"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            token_revoke(token=token, revoked_by=request.user)
