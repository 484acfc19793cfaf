from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.v1.serializers import MeOutputSerializer, MeUpdateInputSerializer
from apps.accounts.forms import privileged_fields_in
from apps.core.permissions import Role


class MeView(APIView):
    """The signed-in user: role, tenant and language. Role and tenant are read-only here."""

    api_scope = "profile"

    @extend_schema(responses=MeOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeOutputSerializer(request.user).data)

    @extend_schema(request=MeUpdateInputSerializer, responses=MeOutputSerializer)
    def patch(self, request: Request) -> Response:
        """Change one's name, email or language; role and tenant are refused, never ignored."""
        refused = privileged_fields_in(request.data)
        if refused:
            fields = ", ".join(refused)
            if getattr(request.user, "role", None) != Role.PLATFORM_ADMIN:
                raise exceptions.PermissionDenied(
                    _("Only a platform administrator may change: %s.") % fields
                )
            raise exceptions.ValidationError(
                {"detail": _("Change %s in the administration, not here.") % fields}
            )
        data = MeUpdateInputSerializer(request.user, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        data.save()
        return Response(MeOutputSerializer(request.user).data)
