from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest

from apps.core.permissions import Role


def restrict_admin_to_platform_admins(site: AdminSite) -> None:
    """The Django admin is for platform admins only, whatever `is_staff` says."""

    def has_permission(request: HttpRequest) -> bool:
        user: Any = request.user
        return bool(user.is_active and user.is_staff and user.role == Role.PLATFORM_ADMIN)

    site.has_permission = has_permission  # type: ignore[method-assign]
    site.site_header = "HEB Platform"
