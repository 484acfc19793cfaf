from typing import Any

from apps.core.permissions import Action
from apps.devices.models import Device, DeviceQuerySet


def device_list(*, user: Any, action: Action = Action.VIEW) -> DeviceQuerySet:
    return Device.objects.restrict(user, action).select_related("household", "gateway")
