"""GET/POST /api/v1/households/<id>/consents/ and GET .../access-log/: the household's own
consent, cell by cell, and who read its data (for its app; its people only)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.permissions import Action, Role
from apps.households.models import Household
from apps.privacy import consent, selectors
from apps.privacy.models import AccessLogEntry, Purpose, RecipientKind, Resolution


class ConsentChoiceSerializer(serializers.Serializer):
    recipient = serializers.ChoiceField(RecipientKind.choices)
    third_party = serializers.IntegerField(required=False, help_text="user id, third parties")
    purpose = serializers.ChoiceField([p for p in Purpose.choices if p[0] != Purpose.OWN_USE])
    resolution = serializers.ChoiceField(Resolution.choices)
    granted = serializers.BooleanField()


def _tables_data(household: Household) -> list[dict[str, Any]]:
    return [
        {
            "recipient": table.kind.value,
            "third_party": table.third_party.pk if table.third_party else None,
            "name": table.name,
            "choices": [
                {
                    "purpose": row.purpose.value,
                    "resolution": cell.resolution.value,
                    "allowed": cell.allowed,
                    "basis": cell.basis.value if cell.basis else None,
                    "answered": cell.explicit,
                    "fixed": cell.fixed,
                }
                for row in table.rows
                for cell in row.cells
            ],
        }
        for table in selectors.consent_tables(household)
    ]


class HouseholdConsentView(APIView):
    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.OBJECT)})
    def get(self, request: Request, household_id: Any) -> Response:
        household = selectors.own_household(request.user, household_id, Action.VIEW_CONSUMPTION)
        return Response({"recipients": _tables_data(household)})

    @extend_schema(
        request=ConsentChoiceSerializer,
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="the choice as recorded"),
            400: OpenApiResponse(description="not a choice the household can make, named"),
            404: OpenApiResponse(description="not the owner of this household"),
        },
    )
    def post(self, request: Request, household_id: Any) -> Response:
        """One choice: one recipient, one purpose, one resolution (never a bundle)."""
        user: Any = request.user
        household = selectors.own_household(user, household_id, Action.MANAGE_MEMBERS)
        if user.role != Role.HOUSEHOLD_OWNER:
            raise Http404("No such household.")
        choice = ConsentChoiceSerializer(data=request.data)
        choice.is_valid(raise_exception=True)
        data = choice.validated_data
        third_party = None
        if data.get("third_party") is not None:
            third_party = (
                consent.third_parties_for(household).filter(pk=data["third_party"]).first()
            )
            if third_party is None:
                return _bad("No such third party for this household.")
        try:
            decision = consent.consent_set(
                household=household, recipient_kind=data["recipient"], purpose=data["purpose"],
                resolution=data["resolution"], granted=data["granted"], by=user,
                third_party=third_party,
            )  # fmt: skip
        except ValueError as error:
            return _bad(str(error))
        return Response(
            {
                "consent": str(decision.pk),
                "recipient": decision.recipient_kind,
                "third_party": decision.third_party_id,
                "purpose": decision.purpose,
                "resolution": decision.resolution,
                "granted": decision.granted,
                "decided_at": decision.decided_at.isoformat(),
            }
        )


def _bad(message: str) -> Response:
    return Response({"detail": message}, status=status.HTTP_400_BAD_REQUEST)


class AccessLogEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AccessLogEntry
        fields = [
            "at", "reader_name", "role", "purpose", "basis", "consent", "resolution",
            "period_start", "period_end", "what",
        ]  # fmt: skip


class LogPages(PageNumberPagination):
    page_size = 100


class HouseholdAccessLogView(APIView):
    @extend_schema(responses={200: AccessLogEntrySerializer(many=True)})
    def get(self, request: Request, household_id: Any) -> Response:
        household = selectors.own_household(request.user, household_id, Action.VIEW_CONSUMPTION)
        entries = selectors.access_log(household)
        pages = LogPages()
        page = pages.paginate_queryset(entries, request, view=self)
        return pages.get_paginated_response(AccessLogEntrySerializer(page, many=True).data)
