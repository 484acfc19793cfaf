from __future__ import annotations

from rest_framework import serializers

from apps.privacy.models import DataRightsRecord


class ErasureInputSerializer(serializers.Serializer):
    confirm = serializers.CharField(
        max_length=200,
        trim_whitespace=True,
        help_text="The household's name, typed again: nothing is erased without it.",
    )


class DataRightsRecordOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataRightsRecord
        fields = ["id", "kind", "household_id", "counts", "created_at", "finished_at"]
