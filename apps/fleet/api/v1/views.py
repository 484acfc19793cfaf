from apps.core.api import RestrictedReadOnlyViewSet
from apps.fleet.api.v1.serializers import GatewayOutputSerializer
from apps.fleet.models import Gateway


class GatewayViewSet(RestrictedReadOnlyViewSet):
    """Home Energy Boxes: the telco's fleet, a tenant's boxes, or a household's own."""

    model = Gateway
    serializer_class = GatewayOutputSerializer
