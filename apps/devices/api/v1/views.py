from apps.core.api import RestrictedReadOnlyViewSet
from apps.devices.api.v1.serializers import DeviceOutputSerializer
from apps.devices.models import Device


class DeviceViewSet(RestrictedReadOnlyViewSet):
    """Appliances, plugs, PV, batteries, EV chargers, heat pumps and water heaters."""

    model = Device
    serializer_class = DeviceOutputSerializer
    api_scope = "devices"  # the scope a third party's API token needs (apps.accounts)
