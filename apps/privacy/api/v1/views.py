"""The household's GDPR rights over the API: export (GET, a zip) and erasure (POST).

Only the owner (or a platform admin) reaches them; for anyone else the household does not
exist (404). API tokens are refused: these views declare no `api_scope`.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.households.models import Household
from apps.privacy import gdpr
from apps.privacy.api.v1.serializers import (
    DataRightsRecordOutputSerializer,
    ErasureInputSerializer,
)
from apps.privacy.erasure import household_erase
from apps.privacy.export import household_export, zip_download


class HouseholdExportView(APIView):
    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="household.json (schema-versioned) and one CSV per table",
            ),
            404: OpenApiResponse(description="not a household whose data you may export"),
        },
    )
    def get(self, request: Request, household_id: Any) -> HttpResponseBase:
        try:
            export = household_export(user=request.user, household_id=household_id)
        except Household.DoesNotExist as error:
            raise Http404 from error
        return zip_download(export, request._request)


class HouseholdErasureView(APIView):
    @extend_schema(
        request=ErasureInputSerializer,
        responses={
            200: DataRightsRecordOutputSerializer,
            400: OpenApiResponse(description="the confirmation is missing or wrong"),
            404: OpenApiResponse(description="not a household you may erase"),
        },
    )
    def post(self, request: Request, household_id: Any) -> Response:
        try:
            # Whose household first: anyone else gets 404, whatever the body says.
            gdpr.rights_household(user=request.user, household_id=household_id)
            data = ErasureInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            record = household_erase(
                user=request.user,
                household_id=household_id,
                confirmation=data.validated_data["confirm"],
            )
        except Household.DoesNotExist as error:
            raise Http404 from error
        return Response(DataRightsRecordOutputSerializer(record).data, status=status.HTTP_200_OK)
