from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.v1.serializers import MeOutputSerializer


class MeView(APIView):
    """The signed-in user: role, tenant and language. Role and tenant are read-only here."""

    @extend_schema(responses=MeOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeOutputSerializer(request.user).data)
