from rest_framework import serializers

from apps.fleet.models import Gateway


class GatewayOutputSerializer(serializers.ModelSerializer):
    tenant = serializers.UUIDField(source="tenant_id", read_only=True)
    household = serializers.UUIDField(source="household_id", read_only=True, allow_null=True)

    class Meta:
        model = Gateway
        fields = [
            "id", "serial", "tenant", "household", "firmware_version", "connectivity",
            "last_seen_at",
        ]  # fmt: skip
