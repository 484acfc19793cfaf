from rest_framework import serializers

from apps.accounts.models import User


class MeOutputSerializer(serializers.ModelSerializer):
    tenant = serializers.UUIDField(source="tenant_id", read_only=True)
    language = serializers.CharField(source="preferred_language", read_only=True)

    class Meta:
        model = User
        fields = ["username", "email", "first_name", "last_name", "role", "tenant", "language"]
        read_only_fields = fields


class MeUpdateInputSerializer(serializers.ModelSerializer):
    """What a user may change about themselves. Role, tenant and installer company are not
    here: the view refuses them before this serializer is even read."""

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "language"]
