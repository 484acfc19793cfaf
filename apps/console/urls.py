from django.urls import include, path

from apps.console import views

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("households/", views.household_list, name="households"),
    path("households/<uuid:household_id>/", views.household_detail, name="household"),
    path(
        "households/<uuid:household_id>/installers/",
        views.installer_assign,
        name="installer-assign",
    ),
    path(
        "households/<uuid:household_id>/gateways/claim/",
        views.gateway_claim,
        name="gateway-claim",
    ),
    path("gateways/", views.gateway_fleet, name="gateways"),
    path("planning/", views.planning_runs, name="planning"),
    path("gateways/<uuid:gateway_id>/", views.gateway_detail, name="gateway"),
    path(
        "gateways/<uuid:gateway_id>/keys/rotate/",
        views.gateway_key_rotate,
        name="gateway-key-rotate",
    ),
    path(
        "gateways/<uuid:gateway_id>/keys/<uuid:credential_id>/revoke/",
        views.gateway_key_revoke,
        name="gateway-key-revoke",
    ),
    path(
        "gateways/<uuid:gateway_id>/pairing/request/",
        views.pairing_request,
        name="pairing-request",
    ),
    path("tariffs/", include("apps.tariffs.urls")),
    path("pairings/", views.pairing_queue, name="pairings"),
    path("pairings/<uuid:pairing_id>/approve/", views.pairing_approve, name="pairing-approve"),
    path("pairings/<uuid:pairing_id>/reject/", views.pairing_reject, name="pairing-reject"),
    path("pairings/<uuid:pairing_id>/end/", views.pairing_end, name="pairing-end"),
    path(
        "alarms/<uuid:alarm_id>/acknowledge/",
        views.alarm_acknowledge,
        name="alarm-acknowledge",
    ),
]
