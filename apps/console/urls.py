from django.urls import path

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
    path("gateways/", views.gateway_fleet, name="gateways"),
]
