"""API v1: one router, every route named `api-v1:<name>` (the isolation matrix enumerates them)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.accounts.api.v1.views import MeView
from apps.devices.api.v1.views import DeviceViewSet
from apps.energy.api.v1.consumption import HouseholdConsumptionView
from apps.energy.api.v1.views import HouseholdEnergyView
from apps.fleet.api.v1.views import GatewayViewSet
from apps.households.api.v1.views import (
    HouseholdViewSet,
    InstallerAssignmentListView,
    MemberDetailView,
    MemberListView,
)
from apps.privacy.api.v1.consent import HouseholdAccessLogView, HouseholdConsentView
from apps.privacy.api.v1.views import HouseholdErasureView, HouseholdExportView
from apps.tenants.api.v1.views import TenantViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("tenants", TenantViewSet, basename="tenant")
router.register("households", HouseholdViewSet, basename="household")
router.register("gateways", GatewayViewSet, basename="gateway")
router.register("devices", DeviceViewSet, basename="device")

app_name = "api-v1"
urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path(
        "households/<uuid:household_id>/members/",
        MemberListView.as_view(),
        name="household-members",
    ),
    path(
        "households/<uuid:household_id>/members/<int:user_id>/",
        MemberDetailView.as_view(),
        name="household-member-detail",
    ),
    path(
        "households/<uuid:household_id>/installer-assignments/",
        InstallerAssignmentListView.as_view(),
        name="household-installer-assignments",
    ),
    path(
        "households/<uuid:household_id>/energy/",
        HouseholdEnergyView.as_view(),
        name="household-energy",
    ),
    path(
        "households/<uuid:household_id>/consumption/",
        HouseholdConsumptionView.as_view(),
        name="household-consumption",
    ),
    path(
        "households/<uuid:household_id>/consents/",
        HouseholdConsentView.as_view(),
        name="household-consents",
    ),
    path(
        "households/<uuid:household_id>/access-log/",
        HouseholdAccessLogView.as_view(),
        name="household-access-log",
    ),
    path(
        "households/<uuid:household_id>/export/",
        HouseholdExportView.as_view(),
        name="household-export",
    ),
    path(
        "households/<uuid:household_id>/erasure/",
        HouseholdErasureView.as_view(),
        name="household-erasure",
    ),
    *router.urls,
]
