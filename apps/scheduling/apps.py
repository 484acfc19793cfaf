from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "apps.scheduling"
    label = "scheduling"
    verbose_name = "Smart-appliance scheduling"

    def ready(self) -> None:
        from apps.scheduling import signals  # noqa: F401  (connects the receivers)
