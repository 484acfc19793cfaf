from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.accounts.models import User


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
