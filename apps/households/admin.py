from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from apps.households.models import Household, InstallerAssignment, Invitation, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Household)
class HouseholdAdmin(GuardedModelAdmin):
    list_display = [
        "name", "tenant", "postcode", "meter_point_id", "contracted_power_kva", "main_fuse_a",
    ]  # fmt: skip
    list_filter = ["tenant", "heating_type"]
    search_fields = ["name", "postcode", "meter_point_id"]
    inlines = [MembershipInline]


@admin.register(InstallerAssignment)
class InstallerAssignmentAdmin(admin.ModelAdmin):
    list_display = ["household", "installer", "starts_at", "expires_at", "revoked_at"]
    raw_id_fields = ["household", "installer", "assigned_by"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["household", "email", "expires_at", "accepted_at", "revoked_at"]
    exclude = ["token_hash"]
    raw_id_fields = ["household", "invited_by"]
