"""A plan follows its command: the box's acks (started, done, failed) move it on."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.fleet.models import GatewayCommand
from apps.scheduling.services import plan_follow_command


@receiver(post_save, sender=GatewayCommand)
def _command_saved(sender: Any, instance: GatewayCommand, **kwargs: Any) -> None:
    plan_follow_command(command=instance)
