from django.contrib import admin

from apps.live.models import Notification, OverloadEpisode


@admin.register(OverloadEpisode)
class OverloadEpisodeAdmin(admin.ModelAdmin):
    list_display = ["household", "started_at", "ended_at", "level", "peak_va", "limit_va"]
    list_filter = ["level"]
    raw_id_fields = ["household"]
    date_hierarchy = "started_at"


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["household", "kind", "level", "created_at", "read_at"]
    list_filter = ["kind", "level"]
    raw_id_fields = ["household"]
