from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "apps.live"
    label = "live"
    verbose_name = "Live flows and overload"

    def ready(self) -> None:
        from apps.live import signals  # noqa: F401  (connects the receivers)
