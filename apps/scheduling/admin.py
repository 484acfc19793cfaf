from django.contrib import admin

from apps.scheduling.models import (
    ApplianceProgram,
    DailyPlan,
    EvChargingRule,
    PlanRequest,
    SchedulingPreferences,
    WaterHeaterRule,
)


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


@admin.register(EvChargingRule)
class EvChargingRuleAdmin(admin.ModelAdmin):
    list_display = ["device", "household", "energy_kwh", "departure", "max_kw", "active"]
    list_filter = ["active"]
    raw_id_fields = ["household", "device"]


@admin.register(WaterHeaterRule)
class WaterHeaterRuleAdmin(admin.ModelAdmin):
    list_display = ["device", "household", "energy_kwh", "windows", "max_kw", "active"]
    list_filter = ["active"]
    raw_id_fields = ["household", "device"]


@admin.register(DailyPlan)
class DailyPlanAdmin(admin.ModelAdmin):
    list_display = ["day", "device", "household", "status", "expected_cost", "cost_if_now"]
    list_filter = ["status", "day"]
    raw_id_fields = ["household", "device", "commands"]
    readonly_fields = ["blocks", "reasons", "updated_at"]
