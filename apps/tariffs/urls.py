"""Console pages for tariffs, included by apps/console/urls.py (names in `console:`)."""

from django.urls import path

from apps.tariffs import views

urlpatterns = [
    path("", views.tariff_list, name="tariffs"),
    path("import/", views.price_import, name="tariff-price-import"),
]
