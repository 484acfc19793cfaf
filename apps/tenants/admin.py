from django.contrib import admin

from apps.tenants.models import InstallerCompany, Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "country", "currency", "dso_name", "meter_protocol"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(InstallerCompany)
class InstallerCompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant"]
    list_filter = ["tenant"]
