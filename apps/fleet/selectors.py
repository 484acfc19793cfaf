from typing import Any

from apps.core.permissions import Action
from apps.fleet.models import Gateway, GatewayQuerySet


def gateway_list(*, user: Any, action: Action = Action.VIEW) -> GatewayQuerySet:
    return Gateway.objects.restrict(user, action).select_related("tenant", "household")
