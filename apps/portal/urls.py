from django.urls import path

from apps.portal import privacy_data_view, privacy_exposure_view, privacy_view, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("households/<uuid:household_id>/", views.household_detail, name="household"),
    path(
        "households/<uuid:household_id>/members/invite/",
        views.member_invite,
        name="member-invite",
    ),
    path(
        "households/<uuid:household_id>/members/<int:user_id>/remove/",
        views.member_remove,
        name="member-remove",
    ),
    path(
        "households/<uuid:household_id>/gateways/<uuid:gateway_id>/pairing/request/",
        views.pairing_request,
        name="pairing-request",
    ),
    path(
        "households/<uuid:household_id>/pairings/<uuid:pairing_id>/end/",
        views.pairing_end,
        name="pairing-end",
    ),
    path("households/<uuid:household_id>/energy/", views.household_energy, name="energy"),
    path("households/<uuid:household_id>/reports/", views.household_reports, name="reports"),
    path(
        "households/<uuid:household_id>/reports/subscription/",
        views.report_subscription,
        name="report-subscription",
    ),
    path(
        "households/<uuid:household_id>/reports/<str:period>/<str:day>/",
        views.household_report,
        name="report",
    ),
    path("households/<uuid:household_id>/insights/", views.household_insights, name="insights"),
    path(
        "households/<uuid:household_id>/insights/tips/dismiss/",
        views.tip_dismiss,
        name="tip-dismiss",
    ),
    path("households/<uuid:household_id>/insights/tips/done/", views.tip_done, name="tip-done"),
    path("households/<uuid:household_id>/live/", views.household_live, name="live"),
    path(
        "households/<uuid:household_id>/notifications/",
        views.notification_list,
        name="notifications",
    ),
    path(
        "households/<uuid:household_id>/notifications/read/",
        views.notifications_mark_read,
        name="notifications-read",
    ),
    path("households/<uuid:household_id>/planner/", views.household_planner, name="planner"),
    path(
        "households/<uuid:household_id>/planner/quiet-hours/",
        views.planner_quiet_hours,
        name="planner-quiet-hours",
    ),
    path(
        "households/<uuid:household_id>/planner/devices/<uuid:device_id>/rule/",
        views.planner_rule,
        name="planner-rule",
    ),
    path(
        "households/<uuid:household_id>/planner/devices/<uuid:device_id>/rule/delete/",
        views.planner_rule_delete,
        name="planner-rule-delete",
    ),
    path(
        "households/<uuid:household_id>/plans/<uuid:plan_id>/cancel/",
        views.plan_cancel,
        name="plan-cancel",
    ),
    path(
        "households/<uuid:household_id>/plans/<uuid:plan_id>/start-now/",
        views.plan_start_now,
        name="plan-start-now",
    ),
    path("households/<uuid:household_id>/forecast/", views.household_forecast, name="forecast"),
    path(
        "households/<uuid:household_id>/privacy/consent/",
        privacy_view.consent_page,
        name="privacy-consent",
    ),
    path(
        "households/<uuid:household_id>/privacy/consent/<str:recipient>/",
        privacy_view.consent_change,
        name="privacy-consent-change",
    ),
    path(
        "households/<uuid:household_id>/privacy/log/",
        privacy_view.access_log_page,
        name="privacy-log",
    ),
    path(
        "households/<uuid:household_id>/privacy/exposure/",
        privacy_exposure_view.household_privacy_exposure,
        name="privacy-exposure",
    ),
    path(
        "households/<uuid:household_id>/privacy/data/",
        privacy_data_view.privacy_data,
        name="privacy-data",
    ),
    path(
        "households/<uuid:household_id>/privacy/data/export/",
        privacy_data_view.privacy_data_export,
        name="privacy-data-export",
    ),
    path(
        "households/<uuid:household_id>/privacy/data/erase/",
        privacy_data_view.privacy_data_erase,
        name="privacy-data-erase",
    ),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation"),
]
