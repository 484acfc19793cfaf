from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    name = "apps.forecasting"
    label = "forecasting"
    verbose_name = "PV and load forecasts"
