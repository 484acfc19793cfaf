from rest_framework import serializers

from apps.households.models import Household, InstallerAssignment, Membership


class HouseholdOutputSerializer(serializers.ModelSerializer):
    tenant = serializers.UUIDField(source="tenant_id", read_only=True)

    class Meta:
        model = Household
        fields = [
            "id", "tenant", "name", "address", "postcode", "city", "timezone",
            "meter_point_id", "contracted_power_kva", "household_size", "heating_type",
        ]  # fmt: skip


class MemberOutputSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="user.pk", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.get_full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["user_id", "username", "name", "role", "can_control", "created_at"]


class InvitationInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    can_control = serializers.BooleanField(default=False)


class InvitationOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    can_control = serializers.BooleanField()
    expires_at = serializers.DateTimeField()


class InstallerAssignmentInputSerializer(serializers.Serializer):
    installer = serializers.CharField(help_text="The installer's username.")
    days = serializers.IntegerField(required=False, min_value=1, max_value=365)


class InstallerAssignmentOutputSerializer(serializers.ModelSerializer):
    installer = serializers.CharField(source="installer.username")
    assigned_by = serializers.CharField(source="assigned_by.username")

    class Meta:
        model = InstallerAssignment
        fields = ["id", "installer", "assigned_by", "starts_at", "expires_at", "revoked_at"]
