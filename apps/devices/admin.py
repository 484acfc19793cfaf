from django.contrib import admin

from apps.devices.models import Device


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "household", "rated_power_w", "controllable"]
    list_filter = ["kind", "controllable", "household__tenant"]
    search_fields = ["name", "household__name"]
    raw_id_fields = ["household", "gateway"]
