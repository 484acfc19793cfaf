from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "apps.scheduling"
    label = "scheduling"
    verbose_name = "Smart-appliance scheduling"

    def ready(self) -> None:
        from django.utils.translation import gettext

        from apps.scheduling import signals  # noqa: F401  (connects the receivers)
        from apps.scheduling.optimizer import i18n

        i18n.install(gettext)  # the planner's reasons in the reader's language
