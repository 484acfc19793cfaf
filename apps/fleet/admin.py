from django.contrib import admin

from apps.fleet.models import Gateway


@admin.register(Gateway)
class GatewayAdmin(admin.ModelAdmin):
    list_display = [
        "serial",
        "tenant",
        "household",
        "firmware_version",
        "connectivity",
        "last_seen_at",
    ]
    list_filter = ["tenant", "connectivity", "firmware_version"]
    search_fields = ["serial"]
    raw_id_fields = ["household"]
