from django.contrib import admin

from apps.scheduling.models import ApplianceProgram, PlanRequest, SchedulingPreferences


@admin.register(ApplianceProgram)
class ApplianceProgramAdmin(admin.ModelAdmin):
    list_display = ["device", "name", "duration_minutes", "energy_wh"]
    raw_id_fields = ["device"]


@admin.register(PlanRequest)
class PlanRequestAdmin(admin.ModelAdmin):
    list_display = ["household", "program", "status", "planned_start", "done_by"]
    list_filter = ["status"]
    raw_id_fields = ["household", "program", "requested_by", "command"]


@admin.register(SchedulingPreferences)
class SchedulingPreferencesAdmin(admin.ModelAdmin):
    list_display = ["household", "quiet_start", "quiet_end"]
    raw_id_fields = ["household"]
