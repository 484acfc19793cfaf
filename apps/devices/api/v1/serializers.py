from rest_framework import serializers

from apps.devices.models import Device


class DeviceOutputSerializer(serializers.ModelSerializer):
    household = serializers.UUIDField(source="household_id", read_only=True)
    gateway = serializers.UUIDField(source="gateway_id", read_only=True, allow_null=True)

    class Meta:
        model = Device
        fields = ["id", "household", "gateway", "name", "kind", "rated_power_w", "controllable"]
