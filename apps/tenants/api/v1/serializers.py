from rest_framework import serializers

from apps.tenants.models import Tenant


class TenantOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = [
            "id", "slug", "name", "kind", "country", "currency",
            "timezone", "language", "dso_name", "meter_protocol",
        ]  # fmt: skip
