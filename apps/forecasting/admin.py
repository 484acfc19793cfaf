from django.contrib import admin

from apps.forecasting.models import Forecast, PvClearSkyIndex, PvSystem


@admin.register(PvSystem)
class PvSystemAdmin(admin.ModelAdmin):
    list_display = ["household", "kwp", "inverter_ac_kw", "tilt_deg", "azimuth_deg", "latitude",
                    "longitude"]  # fmt: skip
    list_filter = ["household__tenant"]
    search_fields = ["household__name"]
    raw_id_fields = ["household", "device"]


@admin.register(PvClearSkyIndex)
class PvClearSkyIndexAdmin(admin.ModelAdmin):
    list_display = ["household", "month", "days", "updated_at"]
    list_filter = ["month"]
    raw_id_fields = ["household"]


@admin.register(Forecast)
class ForecastAdmin(admin.ModelAdmin):
    list_display = ["household", "kind", "horizon", "day", "issued_at"]
    list_filter = ["kind", "horizon"]
    raw_id_fields = ["household"]
    date_hierarchy = "day"
    readonly_fields = ["issued_at", "start", "values_wh", "error_wh", "meta"]
