from typing import Any

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.core.api import RestrictedReadOnlyViewSet
from apps.core.permissions import Action
from apps.households import selectors, services
from apps.households.api.v1.serializers import (
    HouseholdOutputSerializer,
    InstallerAssignmentInputSerializer,
    InstallerAssignmentOutputSerializer,
    InvitationInputSerializer,
    InvitationOutputSerializer,
    MemberOutputSerializer,
)
from apps.households.models import Household


class HouseholdViewSet(RestrictedReadOnlyViewSet):
    """Households the user may see: their own, their tenant's (DSO staff), assigned (installers)."""

    model = Household
    serializer_class = HouseholdOutputSerializer
    api_scope = "households"  # the scope a third party's API token needs (apps.accounts)


def _visible_household(request: Request, household_id: Any, action: Action) -> Household:
    """404 when the user cannot see the household; 403 when they see it but may not `action`."""
    household = get_object_or_404(selectors.household_list(user=request.user), pk=household_id)
    if not selectors.household_can(user=request.user, household=household, action=action):
        raise exceptions.PermissionDenied()
    return household


class MemberListView(APIView):
    """The household's members (GET); an owner invites someone by email (POST)."""

    api_scope = "households"

    @extend_schema(responses=MemberOutputSerializer(many=True))
    def get(self, request: Request, household_id: Any) -> Response:
        household = _visible_household(request, household_id, Action.VIEW_MEMBERS)
        members = selectors.member_list(household=household)
        return Response(MemberOutputSerializer(members, many=True).data)

    @extend_schema(request=InvitationInputSerializer, responses={201: InvitationOutputSerializer})
    def post(self, request: Request, household_id: Any) -> Response:
        household = _visible_household(request, household_id, Action.MANAGE_MEMBERS)
        data = InvitationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, _token = services.member_invite(
            household=household, invited_by=request.user, **data.validated_data
        )
        return Response(InvitationOutputSerializer(invitation).data, status=status.HTTP_201_CREATED)


class MemberDetailView(APIView):
    """Remove a member (owners), or leave the household (any member)."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, household_id: Any, user_id: int) -> Response:
        household = _visible_household(request, household_id, Action.VIEW)
        membership = get_object_or_404(household.memberships, user_id=user_id)
        try:
            services.member_remove(
                household=household, user=membership.user, removed_by=request.user
            )
        except PermissionDenied as error:
            raise exceptions.PermissionDenied() from error
        return Response(status=status.HTTP_204_NO_CONTENT)


class InstallerAssignmentListView(APIView):
    """A tenant's staff assign an installer to a household, for a limited number of days."""

    @extend_schema(responses=InstallerAssignmentOutputSerializer(many=True))
    def get(self, request: Request, household_id: Any) -> Response:
        household = _visible_household(request, household_id, Action.ASSIGN_INSTALLER)
        assignments = selectors.installer_assignment_list(household=household)
        return Response(InstallerAssignmentOutputSerializer(assignments, many=True).data)

    @extend_schema(
        request=InstallerAssignmentInputSerializer,
        responses={201: InstallerAssignmentOutputSerializer},
    )
    def post(self, request: Request, household_id: Any) -> Response:
        household = _visible_household(request, household_id, Action.ASSIGN_INSTALLER)
        data = InstallerAssignmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        installer = User.objects.filter(
            username=data.validated_data["installer"], tenant=household.tenant
        ).first()
        if installer is None:
            raise exceptions.ValidationError({"installer": _("No such installer in this tenant.")})
        assignment = services.installer_assign(
            household=household,
            installer=installer,
            assigned_by=request.user,
            days=data.validated_data.get("days"),
        )
        return Response(
            InstallerAssignmentOutputSerializer(assignment).data, status=status.HTTP_201_CREATED
        )
