from django.contrib import admin

from apps.insights.models import ReportSubscription, SentReport, TipState


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("household", "user", "daily", "weekly", "monthly", "opted_in_at")
    list_filter = ("daily", "weekly", "monthly")
    raw_id_fields = ("household", "user")


@admin.register(SentReport)
class SentReportAdmin(admin.ModelAdmin):
    list_display = ("household", "user", "period", "start", "language", "created_at")
    list_filter = ("period", "language")
    raw_id_fields = ("household", "user")


@admin.register(TipState)
class TipStateAdmin(admin.ModelAdmin):
    list_display = ("household", "kind", "status", "eur_per_year", "first_seen_at", "done_at")
    list_filter = ("status",)
    search_fields = ("kind", "title")
    raw_id_fields = ("household",)
