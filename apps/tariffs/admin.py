from django.contrib import admin

from apps.tariffs.models import (
    HouseholdTariff,
    PricePoint,
    PriceSeries,
    Tariff,
    TariffVersion,
    TempoDay,
    TouPeriod,
)


class TouPeriodInline(admin.TabularInline):
    model = TouPeriod
    extra = 0


class TariffVersionInline(admin.TabularInline):
    model = TariffVersion
    extra = 0
    fields = ("valid_from", "valid_until", "vat_rate", "standing_charge_per_day")
    show_change_link = True


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "tenant", "kind", "direction", "is_default")
    list_filter = ("tenant", "kind", "direction")
    search_fields = ("name", "code")
    inlines = [TariffVersionInline]


@admin.register(TariffVersion)
class TariffVersionAdmin(admin.ModelAdmin):
    list_display = ("tariff", "valid_from", "valid_until", "vat_rate", "standing_charge_per_day")
    list_filter = ("tariff__tenant",)
    inlines = [TouPeriodInline]


@admin.register(TouPeriod)
class TouPeriodAdmin(admin.ModelAdmin):
    list_display = ("version", "name", "day_type", "start", "end", "price_per_kwh")


@admin.register(PriceSeries)
class PriceSeriesAdmin(admin.ModelAdmin):
    list_display = ("code", "tenant", "kind", "currency", "resolution_minutes")


@admin.register(PricePoint)
class PricePointAdmin(admin.ModelAdmin):
    list_display = ("series", "start", "end", "price_per_kwh")
    list_filter = ("series",)
    date_hierarchy = "start"


@admin.register(TempoDay)
class TempoDayAdmin(admin.ModelAdmin):
    list_display = ("series", "date", "colour")
    list_filter = ("series", "colour")
    date_hierarchy = "date"


@admin.register(HouseholdTariff)
class HouseholdTariffAdmin(admin.ModelAdmin):
    list_display = ("household", "tariff", "export_tariff", "valid_from", "valid_until")
    raw_id_fields = ("household",)
